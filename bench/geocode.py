"""Address search at scale: ``geocode`` on typo'd queries, against whole-string pg_trgm.

Run from the repository root: ``.venv/bin/python -m bench.geocode`` (``--quick`` for a 10x
smaller run). Queries are made from random premises of a synthetic territory, each with
one kind of damage: a character of the street name deleted, inserted, substituted or
transposed; diacritics dropped; lower-cased; postcode and town appended; or the staircase
letter written "12a" instead of "12 A". A query is answered right when the top match's
normalized address equals its source premise's. The generator makes street names unique
across towns, so that answer is unique: the geocoder does not use the town (yet).

Baseline in the same run: nearest neighbour by trigram distance over whole folded address
strings (``ORDER BY address_norm <-> q LIMIT 5`` on a GiST ``gist_trgm_ops`` index), on a
subsample of the same queries. Its table is a copy of ``premise(id, address_norm)`` made for
the benchmark, so the index cannot change the plans of the geocoder's own queries.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
import unicodedata
from collections import Counter
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.common import (
    add_common_options,
    bench_cluster,
    conninfo,
    loaded_territory,
    record,
    resolve_sizes,
)
from geo.database import make_engine
from geo.geocoder import geocode
from geo.normalize import fold
from geo.schemas import GeocodeResult
from geo.settings import REPO_ROOT
from scenarios.synth import SynthTerritory

KINDS = (
    "delete",
    "insert",
    "substitute",
    "transpose",
    "no diacritics",
    "lower-case",
    "postcode + town",
    "12 A -> 12a",
)
TYPO_LETTERS = "abcdefghijklmnoprstuvyäö"
WARMUP_QUERIES = 200


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def damage_street(rng: np.random.Generator, street: str, kind: str) -> str:
    """One keyboard slip in the street name that survives folding (else it is no typo)."""
    while True:
        i = int(rng.integers(0, len(street)))
        letter = str(rng.choice(list(TYPO_LETTERS)))
        if kind == "delete":
            typo = street[:i] + street[i + 1 :]
        elif kind == "insert":
            typo = street[:i] + letter + street[i:]
        elif kind == "substitute":
            typo = street[:i] + letter + street[i + 1 :]
        else:
            i = min(i, len(street) - 2)
            typo = street[:i] + street[i + 1] + street[i] + street[i + 2 :]
        if fold(typo) != fold(street) and fold(typo):
            return typo


def make_queries(t: SynthTerritory, rng: np.random.Generator, n: int) -> list[tuple[int, str, str]]:
    """``n`` queries ``(premise index, kind, text)``, kinds in equal shares.

    Kinds that need something to damage draw from the premises that have it: dropping
    diacritics from streets with ä or ö, rewriting the letter of houses that have one.
    """
    has_letter = np.flatnonzero(np.char.find(t.premise_house.astype(str), " ") >= 0)
    accented = np.array([name != strip_diacritics(name) for name in t.street_names])
    has_accent = np.flatnonzero(accented[t.premise_street])
    queries = []
    for q in range(n):
        kind = KINDS[q % len(KINDS)]
        pool = {"no diacritics": has_accent, "12 A -> 12a": has_letter}.get(kind)
        i = int(rng.choice(pool)) if pool is not None else int(rng.integers(0, t.n_premises))
        street, house = t.street_names[t.premise_street[i]], str(t.premise_house[i])
        town = int(t.premise_town[i])
        if kind in ("delete", "insert", "substitute", "transpose"):
            text = f"{damage_street(rng, street, kind)} {house}"
        elif kind == "no diacritics":
            text = strip_diacritics(f"{street} {house}")
        elif kind == "lower-case":
            text = f"{street} {house}".lower()
        elif kind == "postcode + town":
            text = f"{street} {house}, {t.town_postcodes[town]} {t.town_names[town]}"
        else:
            text = f"{street} {house.replace(' ', '').lower()}"
        queries.append((i, kind, text))
    order = rng.permutation(n)
    return [queries[k] for k in order]


def load_geocode(revision: str) -> Callable[..., GeocodeResult]:
    """``geocode`` from geo/geocoder.py as it was at a git revision, to race the current one."""
    source = subprocess.run(
        ["git", "show", f"{revision}:geo/geocoder.py"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if source.returncode != 0:
        msg = f"cannot read geo/geocoder.py at {revision!r}: {source.stderr.strip()}"
        raise SystemExit(msg)
    module = types.ModuleType(f"geocoder_at_{revision}")
    sys.modules[module.__name__] = module  # dataclasses look their module up while it runs
    exec(compile(source.stdout, f"{revision}:geo/geocoder.py", "exec"), module.__dict__)
    return module.geocode  # type: ignore[no-any-return]


def percentiles(ms: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(np.asarray(ms), [50, 95, 99])
    return float(p50), float(p95), float(p99)


def trigram_baseline(
    conn: psycopg.Connection[tuple[object, ...]],
    queries: list[tuple[int, str, str]],
) -> tuple[list[float], list[int | None], float | None]:
    """Latencies and top-1 premise ids of whole-string trigram search (index built if new)."""
    build_s = None
    exists = conn.execute("SELECT to_regclass('bench_address') IS NOT NULL").fetchone()
    if not (exists and exists[0]):
        started = time.perf_counter()
        conn.execute("CREATE TABLE bench_address AS SELECT id, address_norm FROM premise")
        conn.execute(
            "CREATE INDEX bench_address_trgm ON bench_address USING gist "
            "(address_norm gist_trgm_ops)"
        )
        conn.execute("ANALYZE bench_address")
        conn.commit()
        build_s = time.perf_counter() - started
    latencies, top = [], []
    for _, _, query in queries:
        started = time.perf_counter()
        rows = conn.execute(
            "SELECT id FROM bench_address ORDER BY address_norm <-> %(q)s LIMIT 5",
            {"q": fold(query)},
        ).fetchall()
        latencies.append((time.perf_counter() - started) * 1000)
        top.append(int(rows[0][0]) - 1 if rows else None)
    return latencies, top, build_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(parser, feeders=5_000, premises=1_000_000, queries=1_000)
    parser.add_argument(
        "--baseline-queries",
        type=int,
        default=None,
        help="queries sent to the whole-string trigram baseline (default: a tenth, >= 20)",
    )
    parser.add_argument(
        "--compare",
        metavar="REV",
        default=None,
        help="also run geo/geocoder.py as it was at git revision REV, interleaved with the "
        "current one on the same queries",
    )
    args = parser.parse_args(argv)
    resolve_sizes(args)
    n_baseline = min(args.baseline_queries or max(args.queries // 10, 20), args.queries)

    cluster = bench_cluster(fresh=args.fresh)
    loaded = loaded_territory(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    t = loaded.territory
    _, _, address_norm = t.normalized()
    duplicates = len(address_norm) - len(set(address_norm))
    rng = np.random.default_rng(args.seed + 2)
    warmup = make_queries(t, np.random.default_rng(args.seed + 3), WARMUP_QUERIES)
    queries = make_queries(t, rng, args.queries)

    engine = make_engine(loaded.url)
    latencies: list[float] = []
    floor: list[float] = []
    right: list[bool] = []
    other = load_geocode(args.compare) if args.compare else None
    other_latencies: list[float] = []
    other_right: list[bool] = []
    methods: Counter[str] = Counter()
    misses: list[str] = []
    with Session(engine) as session:
        for _, _, query in warmup:
            geocode(session=session, query=query)
            if other:
                other(session=session, query=query)
            session.rollback()
        for i, kind, query in queries:
            started = time.perf_counter()
            session.execute(text("SELECT 1"))
            floor.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            result = geocode(session=session, query=query)
            latencies.append((time.perf_counter() - started) * 1000)
            session.rollback()
            top = result.matches[0] if result.matches else None
            ok = top is not None and address_norm[top.premise_id - 1] == address_norm[i]
            right.append(ok)
            methods[top.method if top else "none"] += 1
            if not ok and len(misses) < 8:
                got = f"{top.address} ({top.score})" if top else "nothing"
                misses.append(f"`{query}` ({kind}) -> {got}, wanted {t.address(i)}")
            if other:
                started = time.perf_counter()
                result = other(session=session, query=query)
                other_latencies.append((time.perf_counter() - started) * 1000)
                session.rollback()
                top = result.matches[0] if result.matches else None
                ok = top is not None and address_norm[top.premise_id - 1] == address_norm[i]
                other_right.append(ok)
    engine.dispose()

    with psycopg.connect(conninfo(cluster, loaded.dbname)) as conn:
        base_lat, base_top, build_s = trigram_baseline(conn, queries[:n_baseline])
    base_right = [
        top is not None and address_norm[top] == address_norm[i]
        for (i, _, _), top in zip(queries[:n_baseline], base_top, strict=True)
    ]

    def row(name: str, ms: list[float], ok: list[bool] | None) -> str:
        p50, p95, p99 = percentiles(ms)
        accuracy = f"{100 * np.mean(ok):.1f}%" if ok is not None else "n/a"
        return f"| {name} | {len(ms):,} | {p50:.2f} | {p95:.2f} | {p99:.2f} | {accuracy} |"

    kinds = np.array([kind for _, kind, _ in queries])
    ok_arr: npt.NDArray[np.bool_] = np.array(right)
    per_kind = ", ".join(f"{k} {100 * ok_arr[kinds == k].mean():.0f}%" for k in KINDS)
    gp50, _, gp99 = percentiles(latencies)
    bp50, _, _ = percentiles(base_lat)
    load_note = (
        f"loaded in {loaded.load_s:.1f} s"
        if loaded.load_s is not None
        else "reused from an earlier run"
    )
    lines = [
        f"Territory: seed {args.seed}, {args.premises:,} premises on {len(t.street_names):,} "
        f"streets in {len(t.town_names)} towns (generated in {loaded.generate_s:.1f} s, "
        f"{load_note}); duplicate normalized addresses: {duplicates}.",
        f"{args.queries:,} queries after {WARMUP_QUERIES} warm-up queries; latency is the "
        "wall time of one `geocode()` call over a local unix socket. The floor row is one "
        "trivial round trip on the same session just before each query: what the machine's "
        "load alone costs.",
        "",
        "| search | queries | p50 ms | p95 ms | p99 ms | top-1 |",
        "|---|---:|---:|---:|---:|---:|",
        row("geo.geocoder.geocode", latencies, right),
        row("baseline: whole-address trigram KNN (`<->`, GiST)", base_lat, base_right),
        *(
            [row(f"geocode at {args.compare}, interleaved", other_latencies, other_right)]
            if other
            else []
        ),
        row("floor: `SELECT 1` round trip before each query", floor, None),
        "",
        f"Ratio baseline / geocoder at p50: **{bp50 / gp50:.0f}x**. "
        f"Targets p99 <= 10 ms: {'met' if gp99 <= 10 else 'MISSED'} ({gp99:.2f} ms); "
        f"top-1 >= 99%: {'met' if ok_arr.mean() >= 0.99 else 'MISSED'} "
        f"({100 * ok_arr.mean():.1f}%).",
        f"Top-1 by kind: {per_kind}. Top match method: "
        + ", ".join(f"{m} {c}" for m, c in sorted(methods.items()))
        + ".",
    ]
    if build_s is not None:
        lines.append(f"Baseline table + GiST trigram index built in {build_s:.1f} s.")
    if misses:
        lines += ["", "First misses:", *(f"- {m}" for m in misses)]
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record("Geocode", "bench.geocode", report)


if __name__ == "__main__":
    main()
