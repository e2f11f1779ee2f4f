"""Territories and simulators: the worlds stormdesk runs in, built on top of the domains.

- ``scenarios.demo_city``: the deterministic demo city (real central Helsinki roads and
  addresses from OpenStreetMap, a synthetic grid on them) and its loader into PostGIS.
- ``scenarios.synth``: seeded synthetic territories at province scale, for benchmarks.
- ``scenarios.storm``: a small storm played through the real intake, for the demo and tests.
- A multi-year outage and call history generator (a later issue) goes here too.

This layer sits above the domains (web -> scenarios -> hotline -> dispatch -> outages |
routing -> geo): it may use every domain's services, and no domain imports it. Importing
the package itself is cheap; the subpackages pull in pyrosm, geopandas and SciPy.
"""
