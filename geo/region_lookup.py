"""Which supply region a request is about, answered from memory (no round trip).

The admission gate shares its slots by region (``web.region_quota``) and must know a
request's region before it lets the request in, so before any database work: from the
account a report or status lookup names, or from its point. ``RegionLookup`` holds the
accounts' regions and the region polygons (an STRtree) of one worker; it is loaded at
start-up and again when the territory changes (``territory_changed`` is notified by the
triggers of migration 0015; ``web.region_index`` listens).

A stale answer only files a request under the wrong region's quota for the moments a
territory import takes to be noticed; it never changes what the request does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import text
from sqlalchemy.orm import Session

# The channel the territory triggers notify (see data/migrations/versions/0015_*.py).
TERRITORY_CHANNEL = "territory_changed"


@dataclass(frozen=True)
class RegionLookup:
    """Accounts' and points' region codes; ``customers`` per region (the quota weights)."""

    by_account: dict[str, str]
    codes: list[str]
    tree: STRtree
    customers: dict[str, int]

    def of_account(self, account: str) -> str | None:
        return self.by_account.get(account)

    def of_point(self, lon: float, lat: float) -> str | None:
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        return self.codes[int(np.min(hits))] if len(hits) else None


def load_region_lookup(*, session: Session) -> RegionLookup:
    """Every region's polygon and every premise's account -> region code, in two queries."""
    regions = session.execute(text("SELECT code, ST_AsBinary(geom) FROM region ORDER BY id")).all()
    codes = [code for code, _ in regions]
    geoms = shapely.from_wkb([bytes(wkb) for _, wkb in regions]) if regions else []
    rows = session.execute(
        text(
            "SELECT p.account, r.code FROM premise p JOIN region r ON r.id = p.region_id "
            "WHERE p.account IS NOT NULL"
        )
    )
    by_account: dict[str, str] = {row[0]: row[1] for row in rows}
    customers = dict.fromkeys(codes, 0)
    for code in by_account.values():
        customers[code] += 1
    return RegionLookup(by_account, codes, STRtree(geoms), customers)
