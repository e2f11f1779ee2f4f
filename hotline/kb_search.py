"""Knowledge-base search: jieba-segmented full text, ranked with pg_trgm similarity.

A query is cut like the documents (``hotline.segment``). Candidates are the published
versions whose tsvector matches any query word or character (GIN index), plus those whose
text is trigram-similar to the query (``<%``, GIN trigram index: typos, Latin words, codes).
They rank by ``ts_rank`` (title words weigh most, single characters least) plus
``TRIGRAM_WEIGHT`` times ``word_similarity``.

The candidates are ranked by their tsvector alone first and only the best ``POOL`` of them
get the (costlier) trigram similarity over their whole text: a one-character query can match
most of the base, and ``word_similarity`` over every article would be the slowest step.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from hotline import segment
from hotline.schemas import SearchHit, SearchResult

TRIGRAM_WEIGHT = 0.6
# pg_trgm's word-similarity threshold for ``<%`` (its default, 0.6, misses one-letter typos
# in short words: "outgae" / "outage" score 0.43).
TRIGRAM_THRESHOLD = 0.4
POOL = 60
SNIPPET_CHARS = 160
MAX_QUERY_CHARS = 200

_SEARCH = """
WITH text_hits AS (
    SELECT v.id, ts_rank(v.search_tsv, q.tsq) AS text_rank
    FROM kb_article_version v
    JOIN kb_article a ON a.id = v.article_id,
    (SELECT to_tsquery('simple', :tsq) AS tsq) q
    WHERE {text_match} AND v.status = 'published' {filters}
    ORDER BY text_rank DESC
    LIMIT :pool
), trigram_hits AS (
    SELECT v.id, 0.0::real AS text_rank
    FROM kb_article_version v
    JOIN kb_article a ON a.id = v.article_id
    WHERE :probe <% v.search_text AND v.status = 'published' {filters}
    LIMIT :pool
), pool AS (
    SELECT id, max(text_rank) AS text_rank
    FROM (SELECT * FROM text_hits UNION ALL SELECT * FROM trigram_hits) u
    GROUP BY id
), scored AS (
    SELECT p.id, p.text_rank, word_similarity(:probe, v.search_text) AS trigram
    FROM pool p JOIN kb_article_version v ON v.id = p.id
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
    """The knobs of the ranking, so the bench can try others on the same data."""

    trigram_weight: float = TRIGRAM_WEIGHT
    trigram_threshold: float = TRIGRAM_THRESHOLD
    pool: int = POOL


def _sql(*, has_tsquery: bool, language: bool) -> str:
    filters = "AND a.audience = ANY(:audiences)"
    if language:
        filters += " AND a.language = :language"
    # Without words only the trigram arm runs: an empty tsquery matches nothing anyway.
    text_match = "v.search_tsv @@ q.tsq" if has_tsquery else "false"
    return _SEARCH.replace("{filters}", filters).replace("{text_match}", text_match)


def snippet(body: str, words: tuple[str, ...], width: int = SNIPPET_CHARS) -> str:
    """A piece of ``body`` around the first query word it contains (or its start)."""
    folded = segment.normalize(body)
    hits = [i for i in (folded.find(w) for w in words) if i >= 0]
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
    if not query.trigram_text:
        return SearchResult(query=q, words=[], hits=[])
    session.execute(
        text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
        {"t": str(ranking.trigram_threshold)},
    )
    params: dict[str, object] = {
        "tsq": query.tsquery or "",
        "probe": query.trigram_text,
        "pool": ranking.pool,
        "audiences": ["public", "internal"] if include_internal else ["public"],
        "weight": ranking.trigram_weight,
        "limit": limit,
    }
    if language is not None:
        params["language"] = language
    rows = session.execute(
        text(_sql(has_tsquery=query.tsquery is not None, language=language is not None)), params
    ).all()
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
