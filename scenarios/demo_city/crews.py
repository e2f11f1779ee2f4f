"""Demo crews with their depots and shifts, and the demo logins (one per crew, plus staff)."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple, TypedDict

import geopandas as gpd
import numpy as np
import shapely

from scenarios.demo_city.roads import Roads, node_point
from scenarios.demo_city.spatial import wgs84_frame

# Shift ends earlier than its start wrap past midnight.
DAY_SHIFT = (dt.time(7, 0), dt.time(19, 0))
NIGHT_SHIFT = (dt.time(19, 0), dt.time(7, 0))
ALL_DAY_SHIFT = (dt.time(0, 0), dt.time(0, 0))
"""Equal start and end: round the clock (see ``dispatch.crews.on_shift``)."""


class CrewSpec(NamedTuple):
    """A demo crew; ``region`` indexes the regions, None puts the crew at the substation."""

    code: str
    name: str
    skills: tuple[str, ...]
    region: int | None
    shift: tuple[dt.time, dt.time]


CREWS = (
    CrewSpec("CREW-01", "Line crew 1", ("line", "tree_trimming"), 0, DAY_SHIFT),
    CrewSpec("CREW-02", "Cable crew 1", ("cable", "line"), 1, DAY_SHIFT),
    CrewSpec("CREW-03", "Transformer crew 1", ("cable", "transformer"), 2, DAY_SHIFT),
    CrewSpec("CREW-04", "Tree crew", ("line", "tree_trimming"), 2, DAY_SHIFT),
    CrewSpec("CREW-05", "Line crew 2 (nights)", ("hv", "line"), 0, NIGHT_SHIFT),
    CrewSpec("CREW-06", "Cable crew 2 (nights)", ("cable", "transformer"), 1, NIGHT_SHIFT),
    CrewSpec(
        "CREW-07", "Substation crew", ("hv", "substation", "transformer"), None, ALL_DAY_SHIFT
    ),
    CrewSpec("CREW-08", "Standby crew", ("cable", "line", "transformer"), None, ALL_DAY_SHIFT),
)


class DemoLogin(TypedDict):
    """A demo account; the password is printed by the CLI, so it must never guard real data."""

    username: str
    role: str
    password: str
    crew_code: str | None


def _login(username: str, role: str, crew_code: str | None = None) -> DemoLogin:
    return DemoLogin(
        username=username, role=role, password=f"{username}-demo-pass", crew_code=crew_code
    )


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    _login("admin", "admin"),
    _login("dispatcher", "dispatcher"),
    _login("agent", "agent"),
    _login("supervisor", "supervisor"),
    *(_login(f"crew{spec.code.removeprefix('CREW-')}", "crew", spec.code) for spec in CREWS),
    _login("cti", "cti"),  # the telephony system's service account (calls only)
)


def crew_frame(roads: Roads, regions_m: list[Any], root: int) -> gpd.GeoDataFrame:
    """Crews with depots on routable road nodes.

    A regional crew's depot is the routable node of its region farthest from the
    substation and from the depots already placed (the edge of town, where depots are, and
    spread out); substation crews start at the substation's road node.
    """
    root_xy = roads.xy_m[roads.row_of[root]]
    clearance_m = np.hypot(*(roads.xy_m - root_xy).T)
    depots = []
    for region in regions_m:
        inside = roads.routable & shapely.contains_xy(region, roads.xy_m[:, 0], roads.xy_m[:, 1])
        row = np.flatnonzero(inside)[np.argmax(clearance_m[inside])]
        depots.append(int(roads.node_ids[row]))
        clearance_m = np.minimum(clearance_m, np.hypot(*(roads.xy_m - roads.xy_m[row]).T))
    root_region = next(
        r for r, region in enumerate(regions_m) if shapely.contains_xy(region, *root_xy)
    )
    rows = [
        {
            "id": i,
            "code": spec.code,
            "name": spec.name,
            "skills": sorted(spec.skills),
            "region_id": (root_region if spec.region is None else spec.region) + 1,
            "shift_start": spec.shift[0],
            "shift_end": spec.shift[1],
            "status": "available",
            "depot_geom": node_point(roads, root if spec.region is None else depots[spec.region]),
        }
        for i, spec in enumerate(CREWS, start=1)
    ]
    return wgs84_frame(rows, geometry="depot_geom")


def user_rows(crews: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    crew_ids = dict(zip(crews["code"], crews["id"].astype(int), strict=True))
    return [
        {
            "id": i,
            "username": login["username"],
            "role": login["role"],
            "password": login["password"],
            "crew_id": None if login["crew_code"] is None else crew_ids[login["crew_code"]],
        }
        for i, login in enumerate(DEMO_LOGINS, start=1)
    ]


def shifts_from(start: dt.time) -> dict[str, tuple[dt.time, dt.time]]:
    """The demo roster turned so the day crews' shift begins at ``start`` (local time).

    The built city keeps fixed 07:00-19:00 / 19:00-07:00 shifts (tests freeze the clock and
    rely on them). The demo runs at whatever hour someone types ``make demo``: turned to
    that hour, the same six crews are on shift and the same storm gives the same plan,
    whenever it runs. Round-the-clock crews are not turned.
    """
    day_start = DAY_SHIFT[0].hour * 60 + DAY_SHIFT[0].minute
    offset = (start.hour * 60 + start.minute - day_start) % (24 * 60)

    def turned(at: dt.time) -> dt.time:
        minutes = (at.hour * 60 + at.minute + offset) % (24 * 60)
        return dt.time(minutes // 60, minutes % 60)

    return {
        spec.code: spec.shift
        if spec.shift == ALL_DAY_SHIFT
        else (turned(spec.shift[0]), turned(spec.shift[1]))
        for spec in CREWS
    }
