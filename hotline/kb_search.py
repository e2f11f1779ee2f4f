"""Knowledge-base search: jieba-segmented full text, pg_trgm for typos and the Latin side.

1. The query is cut like the documents (``hotline.segment``).
2. Its Latin words that the base does not contain are corrected: pg_trgm finds their
   nearest words in the vocabulary (``kb_term``, a GiST trigram index), which join them in
   the query ("outgae" also asks for "outage").
3. Per query word, the published versions containing it (GIN index) are ranked by
   ``ts_rank`` against the whole query (title words weigh most, single characters least)
   and the best ``pool`` of each go into one pool. A rare word (a feeder code, a place
   name) so keeps its articles even when a common word matches thousands: ``ts_rank`` has
   no notion of rarity. Words in more than ``COMMON_SHARE`` of the articles (PostgreSQL's
   own statistics of the column, ``pg_stats.most_common_elems``) get no arm when a rarer
   word is there, and only an arm over the titles (``title_tsv``, its own small index) when
   none is: ranking thousands of matches is the slow part, and they still count in every
   score.
4. The best ``rerank`` of the pool are scored by ``ts_rank`` plus ``trigram_weight`` times
   the ``word_similarity`` of the query's Latin side to the article's.
5. When the words find fewer than ``limit`` articles, the query runs again with arms for
   the rare Han characters of its words added (a wrong character, an unusual cut).

Not ``<%`` over whole documents: on a common word it rechecks thousands of rows with
``word_similarity``, the slowest step there is; the vocabulary holds each word once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from hotline import segment
from hotline.schemas import SearchHit, SearchResult

MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 160
MAX_ARMS = 8  # words beyond this share one arm: a pasted paragraph is not eight queries
COMMON_SHARE = 0.05
STATS_TTL_S = 60.0
_STATS = """
SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats
WHERE tablename = 'kb_article_version' AND attname = 'search_tsv'
"""
_shares: dict[str, tuple[float, dict[str, float]]] = {}

_FIXES = """
SELECT w.word, t.term
FROM unnest(CAST(:latin AS text[])) AS w(word)
CROSS JOIN LATERAL (
    SELECT k.term FROM kb_term k ORDER BY k.term <-> w.word LIMIT :fixes
) t
WHERE NOT EXISTS (SELECT 1 FROM kb_term e WHERE e.term = w.word)
  AND similarity(t.term, w.word) >= :fix_threshold
"""
_ARM = """(
    SELECT v.id FROM kb_article_version v
    WHERE v.{column} @@ to_tsquery('simple', :arm{i}) AND v.status = 'published' {filters}
    ORDER BY ts_rank(v.search_tsv, to_tsquery('simple', :tsq)) DESC
    LIMIT :pool
)"""
_FILTERS = (
    "AND EXISTS (SELECT 1 FROM kb_article f WHERE f.id = v.article_id "
    "AND f.audience = ANY(:audiences){language})"
)
_RANKED = """
WITH pool AS ({arms}), ranked AS (
    SELECT v.id, v.search_text, ts_rank(v.search_tsv, to_tsquery('simple', :tsq)) AS text_rank
    FROM pool p JOIN kb_article_version v ON v.id = p.id
    ORDER BY text_rank DESC
    LIMIT :rerank
), scored AS (
    SELECT id, text_rank, {similarity} AS trigram FROM ranked
)
SELECT a.id, a.slug, a.language, a.audience, c.code, v.title, v.body, s.text_rank, s.trigram
FROM scored s
JOIN kb_article_version v ON v.id = s.id
JOIN kb_article a ON a.id = v.article_id
JOIN kb_category c ON c.id = a.category_id
ORDER BY s.text_rank + :weight * s.trigram DESC, a.id
LIMIT :limit
"""


@dataclass(frozen=True)
class Ranking:
    """The knobs of the ranking, so the bench can try others on the same data.

    ``fix_threshold``: the trigram similarity a vocabulary word needs to stand in for a
    query word ("outgae" / "outage" score 0.27); ``fixes``: how many may stand in for one.
    """

    trigram_weight: float = 0.5
    fix_threshold: float = 0.25
    fixes: int = 3
    pool: int = 15
    rerank: int = 10  # the best by ts_rank that word_similarity may reorder (it is costly)


def search_sql(*, columns: list[str], probe: bool, filtered: bool, language: bool) -> str:
    """The statement for one arm per entry of ``columns`` (parameters ``arm0`` ...)."""
    filters = ""
    if filtered:
        filters = _FILTERS.replace("{language}", " AND f.language = :language" if language else "")
    joined = " UNION ".join(
        _ARM.replace("{i}", str(i)).replace("{column}", column).replace("{filters}", filters)
        for i, column in enumerate(columns)
    )
    similarity = "word_similarity(:probe, search_text)" if probe else "0.0::real"
    return _RANKED.replace("{arms}", joined).replace("{similarity}", similarity)


def corrections(
    *, session: Session, words: tuple[str, ...], ranking: Ranking
) -> dict[str, list[str]]:
    """Vocabulary words that may be meant by query words the base does not contain."""
    if not words:
        return {}
    rows = session.execute(
        text(_FIXES),
        {"latin": list(words), "fixes": ranking.fixes, "fix_threshold": ranking.fix_threshold},
    )
    out: dict[str, list[str]] = {}
    for word, fix in rows:
        out.setdefault(word, []).append(fix)
    return out


def term_shares(session: Session) -> dict[str, float]:
    """Share of articles containing each common lexeme, from ANALYZE's statistics (cached
    for ``STATS_TTL_S``; empty before the first ANALYZE, when every word counts as rare)."""
    key = str(session.get_bind().engine.url)
    cached = _shares.get(key)
    if cached is not None and time.monotonic() - cached[0] < STATS_TTL_S:
        return cached[1]
    row = session.execute(text(_STATS)).first()
    shares = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
    _shares[key] = (time.monotonic(), shares)
    return shares


def share(word: str, shares: dict[str, float]) -> float:
    """The share of articles a query word matches; a prefix term ("meter" -> "meters")
    counts its most common completion."""
    if segment.LATIN.search(word) and len(word) >= segment.MIN_PREFIX_CHARS:
        return max((v for k, v in shares.items() if k.startswith(word)), default=0.0)
    return shares.get(word, 0.0)


@dataclass(frozen=True)
class Arm:
    tsquery: str
    column: str  # search_tsv, or title_tsv for a common word


def _compounds(words: tuple[str, ...]) -> list[list[str]]:
    """Query words grouped under the longest word containing them: ``cut_for_search`` gives
    电动汽车 and also 电动 and 汽车, and one arm for the three ranks their union once."""
    groups: dict[str, list[str]] = {}
    for word in sorted(words, key=len, reverse=True):
        home = next((g for g in groups if word in g), word)
        groups.setdefault(home, []).append(word)
    return list(groups.values())


def _arms(
    query: segment.Query, fixes: dict[str, list[str]], shares: dict[str, float], wide: bool
) -> tuple[list[Arm], str]:
    """The arms and the whole query's tsquery text (for the scores)."""
    per_word = []
    for group in _compounds(query.words):
        alternatives = [a for w in group for a in (w, *fixes.get(w, []))]
        text_ = " | ".join(segment.term(a) for a in alternatives)
        per_word.append((max(share(a, shares) for a in alternatives), text_))
    rare = [Arm(t, "search_tsv") for s_, t in per_word if s_ < COMMON_SHARE]
    arms = rare or [Arm(t, "title_tsv") for _, t in per_word]
    if len(arms) > MAX_ARMS:
        rest = " | ".join(a.tsquery for a in arms[MAX_ARMS - 1 :])
        arms = [*arms[: MAX_ARMS - 1], Arm(rest, arms[-1].column)]
    texts = [t for _, t in per_word]
    if wide:
        # Only rare characters get an arm: a common one (电) would rank half the base.
        for char, term in zip(query.chars, query.char_terms, strict=True):
            texts.append(term)
            if shares.get(char, 0.0) < COMMON_SHARE:
                arms.append(Arm(term, "search_tsv"))
    return arms, " | ".join(texts)


def snippet(body: str, marks: tuple[str, ...], width: int = SNIPPET_CHARS) -> str:
    """A piece of ``body`` around the first query word it contains (or its start)."""
    folded = segment.normalize(body)
    hits = [i for i in (folded.find(m) for m in marks) if i >= 0]
    start = max(0, min(hits) - width // 3) if hits else 0
    piece = body[start : start + width].replace("\n", " ").strip()
    return ("..." if start > 0 else "") + piece + ("..." if start + width < len(body) else "")


def search(
    *,
    session: Session,
    q: str,
    include_internal: bool,
    language: str | None = None,
    limit: int = 10,
    ranking: Ranking | None = None,
) -> SearchResult:
    """Published articles for ``q``, best first; internal ones only for staff."""
    ranking = ranking or Ranking()
    query = segment.query(q[:MAX_QUERY_CHARS])
    if not query.terms:
        return SearchResult(query=q, words=[], hits=[])
    fixes = corrections(session=session, words=query.latin, ranking=ranking)
    shares = term_shares(session)
    rows: list = []
    for wide in (False, True):
        if wide and (len(rows) >= limit or not query.char_terms):
            break
        arms, whole = _arms(query, fixes, shares, wide)
        params: dict[str, object] = {f"arm{i}": arm.tsquery for i, arm in enumerate(arms)}
        params |= {
            "tsq": whole,
            "probe": query.probe,
            "pool": ranking.pool,
            "rerank": max(ranking.rerank, limit),
            "audiences": ["public", "internal"] if include_internal else ["public"],
            "language": language,
            "weight": ranking.trigram_weight,
            "limit": limit,
        }
        sql = search_sql(
            columns=[arm.column for arm in arms],
            probe=query.probe is not None,
            filtered=not include_internal or language is not None,
            language=language is not None,
        )
        rows = list(session.execute(text(sql), params))
    marks = query.words + query.chars
    hits = [
        SearchHit(
            article_id=row.id,
            slug=row.slug,
            language=row.language,
            audience=row.audience,
            category_code=row.code,
            title=row.title,
            snippet=snippet(row.body, marks),
            score=float(row.text_rank) + ranking.trigram_weight * float(row.trigram),
            text_rank=float(row.text_rank),
            trigram=float(row.trigram),
        )
        for row in rows
    ]
    return SearchResult(query=q, words=list(query.words), hits=hits)
