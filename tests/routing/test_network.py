"""Road network travel times against graphs small enough to compute by hand."""

from __future__ import annotations

import numpy as np
import pytest

from routing.network import build_network, leg_geometry, snap, travel_time_matrix

# A 3 x 2 grid of nodes 0.001 degree apart at the equator (about 111.2 m per step), with
# lengths given explicitly so the expected times are round numbers at 36 km/h (10 m/s).
#
#   3 --- 4 --- 5
#   |     |     |
#   0 --- 1 --- 2        1 -> 2 is one-way; 2 -> 5 and 4 -> 1 are one-way too.
#
LON = [0.000, 0.001, 0.002, 0.000, 0.001, 0.002]
LAT = [0.000, 0.000, 0.000, 0.001, 0.001, 0.001]
EDGES = [  # from, to, length_m, oneway
    (0, 1, 100.0, False),
    (1, 2, 100.0, True),
    (3, 4, 100.0, False),
    (4, 5, 100.0, False),
    (0, 3, 100.0, False),
    (4, 1, 50.0, True),
    (2, 5, 100.0, True),
]


def grid(**extra_edges: list[tuple[int, int, float, bool]]) -> object:
    edges = EDGES + extra_edges.get("more", [])
    lon = LON + [p[0] for p in extra_edges.get("nodes", [])]  # type: ignore[misc]
    lat = LAT + [p[1] for p in extra_edges.get("nodes", [])]  # type: ignore[misc]
    return build_network(
        [e[0] for e in edges],
        [e[1] for e in edges],
        [e[2] for e in edges],
        [e[3] for e in edges],
        lon,
        lat,
        speed_kmh=[36.0] * len(edges),
    )


def test_matrix_matches_hand_computed_shortest_paths() -> None:
    network = grid()
    matrix = travel_time_matrix(network, LON, LAT)
    # By hand (seconds at 10 m/s): 0->2 = 0-1-2 = 20; 2->0 = 2-5-4-1-0 = 10+10+5+10 = 35;
    # 5->1 = 5-4-1 = 15; 1->5 = 1-2-5 = 20; 3->2 = 3-4-1-2 = 25; 1->3 = 1-0-3 = 20.
    expected = {(0, 2): 20, (2, 0): 35, (5, 1): 15, (1, 5): 20, (3, 2): 25, (1, 3): 20}
    for (a, b), seconds in expected.items():
        assert matrix.travel_s[a, b] == seconds, (a, b)
    assert not matrix.straight_line.any()
    assert matrix.issues == {}


def test_one_way_streets_are_respected() -> None:
    matrix = travel_time_matrix(grid(), LON, LAT)
    # 1 -> 2 directly is 10 s, but 2 -> 1 must go round by 5 and 4: 10 + 10 + 5 = 25 s.
    assert matrix.travel_s[1, 2] == 10
    assert matrix.travel_s[2, 1] == 25


def test_point_between_nodes_snaps_and_pays_the_access_walk() -> None:
    network = grid()
    # 11 m north of node 1 (0.0001 degree of latitude).
    matrix = travel_time_matrix(network, [0.0, 0.001], [0.0, 0.0001], fallback_speed_mps=11.1)
    assert matrix.node.tolist() == [0, 1]
    assert matrix.snap_distance_m[1] == pytest.approx(11.1, abs=0.2)
    assert matrix.travel_s[0, 1] == 10 + 1


def test_disconnected_piece_is_flagged_and_gets_straight_line_times() -> None:
    # An island road far east (nodes 6, 7) that cannot be reached from the grid.
    network = grid(more=[(6, 7, 100.0, False)], nodes=[(0.05, 0.0), (0.051, 0.0)])
    lon, lat = [0.0, 0.05], [0.0, 0.0]
    matrix = travel_time_matrix(network, lon, lat, fallback_speed_mps=10.0, detour_factor=1.0)
    assert matrix.straight_line.tolist() == [False, True]
    assert matrix.node[1] == -1
    assert "not connected" in matrix.issues[1]
    # 0.05 degree of longitude at the equator is 5,559.7 m: 556 s at 10 m/s.
    assert matrix.travel_s[0, 1] == pytest.approx(556, abs=1)


def test_point_far_from_any_road_is_flagged() -> None:
    nodes, distance, issues = snap(grid(), [0.0, 0.0], [0.0, 0.02], max_snap_m=500)
    assert nodes[0] == 0
    assert nodes[1] == -1
    assert distance[1] > 2000
    assert "from the nearest connected road" in issues[1]


def test_shape_nodes_are_contracted_without_changing_times() -> None:
    # Split the 0 - 3 road into four pieces through three shape nodes: same total length.
    shape_lon, shape_lat = [0.0, 0.0, 0.0], [0.00025, 0.0005, 0.00075]
    edges = [e for e in EDGES if (e[0], e[1]) != (0, 3)]
    chain = [(0, 6, 25.0, False), (6, 7, 25.0, False), (7, 8, 25.0, False), (8, 3, 25.0, False)]
    edges += chain
    network = build_network(
        [e[0] for e in edges],
        [e[1] for e in edges],
        [e[2] for e in edges],
        [e[3] for e in edges],
        LON + shape_lon,
        LAT + shape_lat,
        speed_kmh=[36.0] * len(edges),
    )
    assert network.n_junctions < len(network.lon)
    matrix = travel_time_matrix(network, LON + shape_lon[1:2], LAT + shape_lat[1:2])
    assert matrix.travel_s[0, 3] == 10
    assert matrix.travel_s[6, 3] == 5  # from the middle shape node
    assert matrix.travel_s[2, 6] == 30 + 5  # 2-5-4-3, then half way down towards 0


def test_leg_geometry_follows_the_roads() -> None:
    network = grid()
    [line] = leg_geometry(network, LON, LAT, [(2, 0)])
    assert line[0] == (0.002, 0.0)
    assert line[-1] == (0.0, 0.0)
    # 2 -> 5 -> 4 -> 1 -> 0, with the end points repeated as the access legs.
    assert [tuple(np.round(p, 4)) for p in line[1:-1]] == [
        (0.002, 0.0),
        (0.002, 0.001),
        (0.001, 0.001),
        (0.001, 0.0),
        (0.0, 0.0),
    ]


def test_speed_falls_back_from_maxspeed_to_road_class() -> None:
    network = build_network(
        [0, 1],
        [1, 2],
        [1000.0, 1000.0],
        [False, False],
        [0.0, 0.01, 0.02],
        [0.0, 0.0, 0.0],
        road_class=["residential", "motorway"],
        maxspeed_kmh=[72.0, float("nan")],
    )
    matrix = travel_time_matrix(network, [0.0, 0.01, 0.02], [0.0, 0.0, 0.0])
    assert matrix.travel_s[0, 1] == 50  # 1 km at 72 km/h
    assert matrix.travel_s[1, 2] == 40  # 1 km at the motorway class speed of 90 km/h


def test_edges_with_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="length_m has 1 values for 2 edges"):
        build_network([0, 1], [1, 0], [5.0], [False, False], [0.0, 1.0], [0.0, 0.0])


def test_junctions_between_query_points_are_folded_without_changing_times() -> None:
    # Asking only for corners 0 and 2 leaves 1, 3, 4 and 5 free to be folded away.
    network = grid()
    matrix = travel_time_matrix(network, [LON[0], LON[2]], [LAT[0], LAT[2]])
    assert matrix.travel_s.tolist() == [[0, 20], [35, 0]]
    [line] = leg_geometry(network, [LON[0], LON[2]], [LAT[0], LAT[2]], [(1, 0)])
    assert [tuple(np.round(p, 4)) for p in line[1:-1]] == [
        (0.002, 0.0),
        (0.002, 0.001),
        (0.001, 0.001),
        (0.001, 0.0),
        (0.0, 0.0),
    ]
