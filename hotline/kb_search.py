"""Knowledge-base search: jieba-segmented full text, with pg_trgm for the Latin side.

A query is cut like the documents (``hotline.segment``). Candidates are the published
versions whose tsvector matches any query word or character (GIN index), plus, when the
query has Latin letters or digits, those whose Latin text is trigram-similar to them
(``<%``, GIN trigram index: typos such as "outgae", account numbers, codes). They rank by
``ts_rank`` (title words weigh most, single characters least) plus ``trigram_weight`` times
``word_similarity``.

Each arm keeps its best ``pool`` candidates and only those get the final score: a
one-character query can match most of the base, and ranking all of it is the slow part.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from hotline import segment
from hotline.schemas import SearchHit, SearchResult

MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 160

_TEXT_ARM = """
    SELECT v.id, ts_rank(v.search_tsv, to_tsquery('simple', :tsq)) AS text_rank
    FROM kb_article_version v JOIN kb_article a ON a.id = v.article_id
    WHERE v.search_tsv @@ to_tsquery('simple', :tsq) AND v.status = 'published' {filters}
    ORDER BY text_rank DESC
    LIMIT :pool
"""
_TRIGRAM_ARM = """
    SELECT v.id, 0.0::real AS text_rank
    FROM kb_article_version v JOIN kb_article a ON a.id = v.article_id
    WHERE :probe <% v.search_text AND v.status = 'published' {filters}
    ORDER BY word_similarity(:probe, v.search_text) DESC
    LIMIT :pool
"""
_RANKED = """
WITH pool AS (
    SELECT id, max(text_rank) AS text_rank FROM ({arms}) u GROUP BY id
), scored AS (
    SELECT p.id, p.text_rank, {similarity} AS trigram
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
    """The knobs of the ranking, so the bench can try others on the same data.

    ``trigram_threshold`` is pg_trgm's word-similarity threshold for ``<%``: its default,
    0.6, misses a swapped letter in a short word ("outgae" / "outage" score 0.43).
    """

    trigram_weight: float = 0.5
    trigram_threshold: float = 0.4
    pool: int = 50


def search_sql(*, text_arm: bool, trigram_arm: bool, language: bool) -> str:
    """The statement for a query with words and/or a Latin probe (at least one)."""
    filters = "AND a.audience = ANY(:audiences)"
    if language:
        filters += " AND a.language = :language"
    arms = [arm for arm, on in ((_TEXT_ARM, text_arm), (_TRIGRAM_ARM, trigram_arm)) if on]
    joined = " UNION ALL ".join(f"({arm})" for arm in arms).replace("{filters}", filters)
    similarity = "word_similarity(:probe, v.search_text)" if trigram_arm else "0.0::real"
    return _RANKED.replace("{arms}", joined).replace("{similarity}", similarity)


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
    if query.tsquery is None and query.probe is None:
        return SearchResult(query=q, words=[], hits=[])
    params: dict[str, object] = {
        "tsq": query.tsquery,
        "probe": query.probe,
        "pool": ranking.pool,
        "audiences": ["public", "internal"] if include_internal else ["public"],
        "weight": ranking.trigram_weight,
        "limit": limit,
        "language": language,
    }
    if query.probe is not None:
        session.execute(
            text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
            {"t": str(ranking.trigram_threshold)},
        )
    sql = search_sql(
        text_arm=query.tsquery is not None,
        trigram_arm=query.probe is not None,
        language=language is not None,
    )
    rows = session.execute(text(sql), params).all()
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
