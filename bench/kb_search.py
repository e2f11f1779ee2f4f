"""Knowledge-base search quality and latency: jieba + ``simple`` tsvector + pg_trgm.

Run from the repository root: ``.venv/bin/python -m bench.kb_search`` (about two minutes).
The base: the demo's seeded articles (scenarios/knowledge_base/articles.json) plus
``--synthetic`` generated notices (bench/kb_synth.py). The queries: the hand-written set over
the seeded articles (bench/kb_queries.py) and ``--synthetic-queries`` aimed at notices.
A query is answered when one of its relevant articles is in the top 5 (recall@5); MRR@5 is
the mean of 1/rank of the first relevant one (0 past rank 5).

Baselines in the same run, on a copy of the published texts made for the benchmark:
``simple`` tsvector of the raw text (no segmentation; the query's lexemes OR-ed, ts_rank),
and pg_trgm alone (``<%`` at word-similarity threshold 0.3, ordered by word_similarity).
Then the base is grown to ``--scale`` articles and the product's search is timed per query
(jieba, two statements over a unix socket), after a warm-up pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from bench.common import bench_cluster, machine_note, record
from bench.kb_queries import QUERIES
from bench.kb_synth import SynthArticle, articles, queries
from geo import migrate
from geo.settings import REPO_ROOT
from hotline import kb_search
from hotline.kb import NewVersion, insert_versions
from hotline.kb_seed import read_seed_file, seed_articles
from hotline.models import KbArticle, KbCategory

DBNAME = "kb_search_bench"
SEED_FILE = REPO_ROOT / "scenarios" / "knowledge_base" / "articles.json"
TOP = 5
SHORT_ZH = ("zh1", "zh2")
KIND_ORDER = ("zh1", "zh2", "zhq", "zht", "en", "ent", "mix")


@dataclass(frozen=True)
class Query:
    q: str
    kind: str
    relevant: frozenset[str]
    source: str  # "seeded" or "synthetic"


Searcher = Callable[[Session, str], list[str]]

_SIMPLE = """
SELECT d.slug FROM bench_kb_doc d,
    (SELECT to_tsquery('simple', coalesce(array_to_string(array(
        SELECT quote_literal(x) FROM unnest(tsvector_to_array(to_tsvector('simple', :q))) x
    ), ' | '), '')) AS tsq) t
WHERE d.tsv @@ t.tsq
ORDER BY ts_rank(d.tsv, t.tsq) DESC, d.slug
LIMIT 5
"""
_TRIGRAM = """
SELECT slug FROM bench_kb_doc WHERE :q <% doc
ORDER BY word_similarity(:q, doc) DESC, slug
LIMIT 5
"""


def add_synthetic(session: Session, arts: Sequence[SynthArticle]) -> None:
    """Publish generated notices through the product's own write path."""
    categories = dict(session.execute(select(KbCategory.code, KbCategory.id)).all())
    rows = [
        KbArticle(
            slug=a.slug,
            language=a.language,
            category_id=categories[a.category],
            audience="public",
            created_by="bench",
        )
        for a in arts
    ]
    session.add_all(rows)
    session.flush()
    at = dt.datetime.now(dt.UTC)
    insert_versions(
        session=session,
        versions=[
            NewVersion(r.id, 1, a.title, a.body, "bench", at, publish=True)
            for r, a in zip(rows, arts, strict=True)
        ],
    )


def build_baseline_table(session: Session) -> None:
    session.execute(text("DROP TABLE IF EXISTS bench_kb_doc"))
    session.execute(
        text(
            "CREATE TABLE bench_kb_doc AS SELECT a.slug, v.title || ' ' || v.body AS doc, "
            "to_tsvector('simple', v.title || ' ' || v.body) AS tsv "
            "FROM kb_article a JOIN kb_article_version v ON v.article_id = a.id "
            "AND v.status = 'published'"
        )
    )
    session.execute(text("CREATE INDEX ON bench_kb_doc USING gin (tsv)"))
    session.execute(text("CREATE INDEX ON bench_kb_doc USING gin (doc gin_trgm_ops)"))
    session.execute(text("ANALYZE bench_kb_doc"))
    session.execute(text("ANALYZE kb_article_version"))
    session.execute(text("ANALYZE kb_article"))


def ours(session: Session, q: str) -> list[str]:
    result = kb_search.search(session=session, q=q, include_internal=True, limit=TOP)
    return [h.slug for h in result.hits]


def simple_baseline(session: Session, q: str) -> list[str]:
    return list(session.scalars(text(_SIMPLE), {"q": q}))


def trigram_baseline(session: Session, q: str) -> list[str]:
    session.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', '0.3', true)"))
    return list(session.scalars(text(_TRIGRAM), {"q": q}))


@dataclass
class Score:
    n: int = 0
    hits: int = 0
    rr: float = 0.0

    def add(self, ranked: list[str], relevant: frozenset[str]) -> None:
        self.n += 1
        rank = next((i for i, slug in enumerate(ranked[:TOP], 1) if slug in relevant), None)
        if rank is not None:
            self.hits += 1
            self.rr += 1.0 / rank

    @property
    def recall(self) -> float:
        return self.hits / self.n if self.n else 0.0

    @property
    def mrr(self) -> float:
        return self.rr / self.n if self.n else 0.0


def evaluate(session: Session, search: Searcher, qs: Sequence[Query]) -> dict[str, Score]:
    """Scores by kind, plus "all", "seeded", "synthetic" and "short_zh" (zh1 + zh2)."""
    scores: dict[str, Score] = defaultdict(Score)
    for query in qs:
        ranked = search(session, query.q)
        groups = ["all", query.kind, query.source]
        if query.kind in SHORT_ZH:
            groups.append("short_zh")
        for group in groups:
            scores[group].add(ranked, query.relevant)
    return scores


def timings(session: Session, qs: Sequence[Query], runs: int) -> list[list[float]]:
    """Milliseconds per query, one list per pass (the machine is shared: passes differ)."""
    for query in qs:  # warm-up: jieba's dictionary, plans, the buffer cache
        ours(session, query.q)
    passes = []
    for _ in range(runs):
        out = []
        for query in qs:
            started = time.perf_counter()
            ours(session, query.q)
            out.append((time.perf_counter() - started) * 1000)
        passes.append(out)
    return passes


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def query_set(synth: Sequence[SynthArticle], n_synth_queries: int, seed: int) -> list[Query]:
    seeded = [Query(q, kind, frozenset(slugs), "seeded") for q, kind, slugs in QUERIES]
    generated = [
        Query(s.q, s.kind, frozenset(s.relevant), "synthetic")
        for s in queries(list(synth), n_synth_queries, seed=seed)
    ]
    return seeded + generated


def quality_table(results: dict[str, dict[str, Score]]) -> str:
    groups = ["all", "seeded", "synthetic", "short_zh", *KIND_ORDER]
    names = list(results)
    head = "| queries | n | " + " | ".join(f"{m} R@5 | {m} MRR@5" for m in names) + " |"
    rule = "|---|---:|" + "---:|---:|" * len(names)
    lines = [head, rule]
    for group in groups:
        first = results[names[0]].get(group)
        if first is None or not first.n:
            continue
        cells = []
        for m in names:
            score = results[m][group]
            cells.append(f"{score.recall:.3f} | {score.mrr:.3f}")
        label = "**short Chinese (zh1 + zh2)**" if group == "short_zh" else group
        lines.append(f"| {label} | {first.n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=2000)
    parser.add_argument("--synthetic-queries", type=int, default=120)
    parser.add_argument("--scale", type=int, default=10_000, help="articles for the latency run")
    parser.add_argument("--runs", type=int, default=5, help="timed passes over the queries")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fresh", action="store_true", help="recreate the bench cluster")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--misses", action="store_true", help="print the queries ours missed")
    args = parser.parse_args(argv)

    cluster = bench_cluster(fresh=args.fresh)
    cluster.drop_database(DBNAME)
    cluster.create_database(DBNAME)
    url = cluster.url(DBNAME)
    migrate.upgrade(url)
    engine = create_engine(url)
    seed_file = read_seed_file(SEED_FILE)
    synth = articles(args.synthetic, seed=args.seed)
    qs = query_set(synth, args.synthetic_queries, args.seed)
    with Session(engine) as session:
        started = time.perf_counter()
        seed_articles(session=session, articles=seed_file)
        add_synthetic(session, synth)
        session.commit()
        load_s = time.perf_counter() - started
        build_baseline_table(session)
        session.commit()
        n_articles = len(seed_file.articles) + len(synth)
        print(f"{n_articles} articles loaded in {load_s:.1f} s; {len(qs)} queries")
        methods: dict[str, Searcher] = {
            "ours": ours,
            "simple": simple_baseline,
            "pg_trgm": trigram_baseline,
        }
        results = {name: evaluate(session, fn, qs) for name, fn in methods.items()}
        session.rollback()
        if args.misses:
            for query in qs:
                ranked = ours(session, query.q)
                if not set(ranked[:TOP]) & query.relevant:
                    print("miss", query.kind, query.q, ranked[:TOP], sorted(query.relevant))
        small_ms = timings(session, qs, 1)
        more = articles(args.scale - n_articles, seed=args.seed, start=args.synthetic)
        add_synthetic(session, more)
        session.commit()
        build_baseline_table(session)
        session.commit()
        scaled = evaluate(session, ours, qs)
        session.rollback()
        big_ms = timings(session, qs, args.runs)
        floor_ms = []
        for _ in range(200):
            started = time.perf_counter()
            session.execute(text("SELECT 1"))
            floor_ms.append((time.perf_counter() - started) * 1000)
        total = session.scalar(text("SELECT count(*) FROM kb_article"))
    engine.dispose()

    table = quality_table(results)
    lat = "\n".join(
        [
            "| base | articles | timed | p50 ms | p95 ms | p99 ms | max ms | p95 per pass |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            _lat_row("quality run", n_articles, small_ms),
            _lat_row("scaled", int(total or 0), big_ms),
            _lat_row("floor: SELECT 1 round trip", int(total or 0), [floor_ms]),
        ]
    )
    report = (
        f"Base: {len(seed_file.articles)} seeded articles + {len(synth):,} synthetic notices "
        f"(seed {args.seed}); {len(qs)} queries ({len(QUERIES)} hand-written over the seeded "
        f"articles, {len(qs) - len(QUERIES)} aimed at notices). Kinds: zh1 one character, zh2 "
        "two-character words, zhq longer Chinese, zht Chinese with a wrong character, en "
        "English, ent English with a typo, mix Chinese and English.\n\n"
        f"{table}\n\n"
        f"At {int(total or 0):,} articles ours scores recall@5 {scaled['all'].recall:.3f}, "
        f"MRR@5 {scaled['all'].mrr:.3f} (short Chinese {scaled['short_zh'].recall:.3f} / "
        f"{scaled['short_zh'].mrr:.3f}).\n\n"
        "Latency of `hotline.kb_search.search` per query (segmenting, two statements over "
        f"the unix socket), {args.runs} passes after a warm-up:\n\n{lat}\n"
    )
    print(report)
    print(machine_note())
    if not args.no_record:
        record("Knowledge-base search", "bench.kb_search", report)
    print(
        json.dumps({"recall@5": results["ours"]["all"].recall, "mrr@5": results["ours"]["all"].mrr})
    )


def _lat_row(label: str, n: int, passes: Sequence[Sequence[float]]) -> str:
    values = [v for p in passes for v in p]
    per_pass = ", ".join(f"{percentile(p, 95):.1f}" for p in passes)
    return (
        f"| {label} | {n:,} | {len(values):,} | {statistics.median(values):.2f} | "
        f"{percentile(values, 95):.2f} | {percentile(values, 99):.2f} | {max(values):.2f} | "
        f"{per_pass} |"
    )


if __name__ == "__main__":
    main()
