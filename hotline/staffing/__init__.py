"""Agent staffing of the centre: how many agents each half hour, on which shifts.

``erlang`` holds Erlang C and Erlang A, ``requirements`` turns a forecast into agents per
interval for a service level, ``roster`` builds a week of shifts with OR-Tools CP-SAT, and
``simulate`` judges a roster by simulating the week with ``ciw``.
"""

from hotline.staffing.erlang import QueueFigures, erlang_a, erlang_b, erlang_c, offered_load
from hotline.staffing.requirements import Target, positions, required_agents, staffing_plan

__all__ = [
    "QueueFigures",
    "Target",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "offered_load",
    "positions",
    "required_agents",
    "staffing_plan",
]
