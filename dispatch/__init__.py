"""Dispatch: crews, work orders, urgency and the 95598 clocks, and plans.

Where things live (lower modules never import higher ones):

- ``models`` / ``schemas`` / ``exceptions`` / ``settings``: tables (crews among them), API
  shapes, errors, knobs; ``crews``: shifts, positions, help requests, who acts for a crew;
- ``state``: the transition table, versions and audit every change shares;
  ``flows``: what dispatch does to outages (restore one, feed its ETR);
- ``orders``: create orders from outages and reports, follow merges, refresh urgency;
  ``lifecycle``: status steps, assignment, the lock; ``closing``: the closing loop and
  appointments; ``views``: read models; ``clocks`` / ``urgency``: deadlines and scores;
- ``problem`` -> ``solve_worker`` -> ``proposals``: the plan, joined by ``planning``
  (``prepare`` / ``finish`` / ``propose``); ``current``: the routes crews are on now;
  ``cycle``: the heartbeat that keeps orders in step with outages.
"""
