"""``stormdesk routing solve`` on JSON, VRPLIB and Solomon files, and on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing.formats import problem_from_json, problem_to_json, read_instance
from web.cli_routing import app

runner = CliRunner()

# Five customers, one depot; capacity 10 forces two routes. Optimum by hand: depot (0,0),
# customers at (0,10) (0,20) and (10,0) (20,0) (20,10): routes 1-2 and 3-5-4.
VRPLIB = """NAME : tiny-n6-k2
TYPE : CVRP
DIMENSION : 6
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 0 10
3 0 20
4 10 0
5 20 0
6 20 10
DEMAND_SECTION
1 0
2 5
3 5
4 3
5 3
6 3
DEPOT_SECTION
1
-1
EOF
"""

SOLOMON = """TINY1

VEHICLE
NUMBER     CAPACITY
  2         20

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0       1000          0
    1      3          4         10          0        100         10
    2      6          8         10         20        200         10
    3     -3         -4         10          0        300         10
"""

JSON_PROBLEM = {
    "locations": [
        {"id": "depot", "lon": 11.97, "lat": 57.70},
        {"id": "hospital", "lon": 11.98, "lat": 57.70},
        {"id": "school", "lon": 11.96, "lat": 57.71},
    ],
    "travel_s": [[0, 300, 400], [300, 0, 500], [400, 500, 0]],
    "skills": ["line", "tree"],
    "jobs": [
        {
            "id": "wire-down",
            "location": "hospital",
            "service_s": 900,
            "priority": 1,
            "skills": ["line"],
            "time_windows": [[0, 3600]],
            "sla_deadline_s": 1800,
        },
        {
            "id": "tree-on-line",
            "location": 2,
            "service_s": 600,
            "priority": 3,
            "skills": ["tree"],
        },
    ],
    "crews": [
        {
            "id": "crew-1",
            "start_location": "depot",
            "end_location": "depot",
            "shift": [0, 28800],
            "skills": ["line", "tree"],
        },
    ],
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_problem_solves_and_prints_json(tmp_path: Path) -> None:
    path = write(tmp_path, "storm.json", json.dumps(JSON_PROBLEM))
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert set(answer) == {"cost", "routes", "vehicles", "dropped"}
    assert answer["routes"] == [["wire-down", "tree-on-line"]]
    assert answer["cost"] == 300 + 500 + 400
    assert answer["vehicles"] == 1
    assert answer["dropped"] == []


def test_vrplib_file_reaches_the_hand_optimum(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny-n6-k2.vrp", VRPLIB)
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "1", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    # 10 + 10 + 20 for the north route; 10 + 10 + 10 + 22 (rounded sqrt(500)) for the east.
    assert answer["cost"] == 40 + 52
    assert sorted(sorted(r) for r in answer["routes"]) == [[1, 2], [3, 4, 5]]
    assert answer["vehicles"] == 2


def test_solomon_file_uses_dimacs_distances(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny1.txt", SOLOMON)
    result = runner.invoke(
        app, ["solve", str(path), "--format", "solomon", "--time-limit", "0.5", "--json"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    # Capacity 20 fits two customers. Customers 1 and 2 lie on one ray from the depot (5 and
    # 10 away): out and back is 20; customer 3 is 5 away the other way: 10.
    assert answer["cost"] == 30.0
    assert sorted(sorted(r) for r in answer["routes"]) == [[1, 2], [3]]


def test_plain_output_lists_routes(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny1.txt", SOLOMON)
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "0.5"])
    assert result.exit_code == 0, result.output
    assert "cost 30.0, vehicles 2" in result.output
    assert "Route #1:" in result.output


BAD_WINDOW = {**JSON_PROBLEM, "crews": [{**JSON_PROBLEM["crews"][0], "shift": [100, 5]}]}


@pytest.mark.parametrize(
    ("name", "text", "extra", "message"),
    [
        ("broken.json", "{not json", [], "not a valid json problem"),
        ("nojobs.json", json.dumps({"crews": []}), [], "missing field 'jobs'"),
        ("badwindow.json", json.dumps(BAD_WINDOW), [], "end_s=5 is before start_s=100"),
        ("garbage.txt", "hello\nworld\n", [], "cannot tell the format"),
        ("garbage.vrp", "NAME : x\nDIMENSION : nope\n", [], "not a valid vrplib problem"),
        ("fine.json", json.dumps(JSON_PROBLEM), ["--format", "xml"], "unknown format 'xml'"),
    ],
)
def test_bad_files_exit_2_with_a_message(
    tmp_path: Path, name: str, text: str, extra: list[str], message: str
) -> None:
    path = write(tmp_path, name, text)
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "0.2", *extra])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_json_round_trip_keeps_the_problem() -> None:
    problem = problem_from_json(JSON_PROBLEM)
    again = problem_from_json(json.loads(json.dumps(problem_to_json(problem))))
    assert again.jobs == problem.jobs
    assert again.crews == problem.crews
    assert (again.travel_s == problem.travel_s).all()
    assert again.skills == problem.skills


def test_json_without_matrix_uses_flagged_straight_lines(tmp_path: Path) -> None:
    data = {key: value for key, value in JSON_PROBLEM.items() if key != "travel_s"}
    instance = read_instance(write(tmp_path, "p.json", json.dumps(data)))
    assert instance.problem.straight_line_locations == {0, 1, 2}
    assert instance.problem.travel_s[0, 1] > 0
