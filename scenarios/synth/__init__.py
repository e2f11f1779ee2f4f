"""Seeded synthetic territories at province scale, for benchmarks (DESIGN.md section 6).

A territory is a box tiled by feeder service areas (Voronoi cells of seeded sites, denser
where people live), grouped into a handful of supply regions, with premises clustered
around towns and given Finnish-style street addresses. Everything is drawn from one
``numpy.random.Generator``, so a seed names a territory exactly; the heavy parts are
vectorized so a million premises take seconds.

Street names are unique across the whole territory (each street belongs to one town), and
house numbers are unique within a street, so "street + house number" identifies one
premise. Real territories repeat street names between towns; the geocoder does not use the
town yet, and a benchmark that measures top-1 accuracy needs an unambiguous answer.

Modules: ``territory`` (towns, premises, feeders, regions), ``names`` (towns, streets,
house numbers), ``bbox`` (points and cells in the box), ``grid`` (device trees) and
``write`` (bulk load into PostGIS).
"""

from scenarios.synth.bbox import DEFAULT_BBOX
from scenarios.synth.grid import SynthGrid, generate_grid
from scenarios.synth.territory import SynthTerritory, generate_territory
from scenarios.synth.write import write_territory

__all__ = [
    "DEFAULT_BBOX",
    "SynthGrid",
    "SynthTerritory",
    "generate_grid",
    "generate_territory",
    "write_territory",
]
