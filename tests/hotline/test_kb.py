"""The knowledge base: the seed, Chinese words inside sentences, typos, audiences, versions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.settings import REPO_ROOT
from hotline import kb, segment
from hotline.kb_search import search
from hotline.kb_seed import SeedFile, read_seed_file, seed_articles

SEED = REPO_ROOT / "scenarios" / "knowledge_base" / "articles.json"
NOW = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def seed_file() -> SeedFile:
    return read_seed_file(SEED)


@pytest.fixture
def seeded(db_session: Session, seed_file: SeedFile) -> Session:
    assert seed_articles(session=db_session, articles=seed_file, now=NOW) == len(seed_file.articles)
    return db_session


def _top(session: Session, q: str, n: int = 3) -> list[str]:
    hits = search(session=session, q=q, include_internal=True, limit=n).hits
    return [f"{h.slug}/{h.language}" for h in hits]


def test_seed_is_bilingual_and_covers_the_topics(seed_file: SeedFile) -> None:
    arts = seed_file.articles
    assert len(arts) >= 60
    by_slug: dict[str, set[str]] = {}
    for a in arts:
        by_slug.setdefault(a.slug, set()).add(a.language)
    assert all(langs == {"zh", "en"} for langs in by_slug.values())
    wanted = {
        "tiered-tariff",
        "planned-outage-notice",
        "power-failure-what-to-do",
        "fallen-line-safety",
        "read-smart-meter",
        "complaint-process",
    }
    assert wanted <= set(by_slug)
    assert {a.audience for a in arts} == {"public", "internal"}


def test_seeding_twice_adds_nothing(seeded: Session, seed_file: SeedFile) -> None:
    assert seed_articles(session=seeded, articles=seed_file, now=NOW) == 0


def test_simple_parser_alone_cannot_find_a_two_character_word() -> None:
    # Why segmentation exists: the sentence is one token to the ``simple`` parser.
    assert segment.words("我家停电了") == ["我家", "停电"]  # "了" is a stopword


def test_plain_simple_tsvector_misses_what_segmented_finds(seeded: Session) -> None:
    plain = seeded.execute(
        text("SELECT to_tsvector('simple', '我家停电了') @@ to_tsquery('simple', '停电')")
    ).scalar()
    assert plain is False
    assert _top(seeded, "停电", n=5)  # the segmented index finds it


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("停电", "power-failure-what-to-do/zh"),  # inside "家里突然停电了怎么办"
        ("跳闸", "tripped-breaker-rcd/zh"),
        ("阶梯", "tiered-tariff/zh"),
        ("断线", "fallen-line-safety/zh"),
        ("过户", "account-transfer/zh"),
        ("窃电", "report-power-theft/zh"),
        ("光伏", "rooftop-solar-connection/zh"),
        ("电压", "low-voltage-problem/zh"),
    ],
)
def test_two_character_chinese_words(seeded: Session, query: str, expected: str) -> None:
    assert expected in _top(seeded, query, n=5)


def test_one_character_query_prefers_titles(seeded: Session) -> None:
    top = _top(seeded, "表", n=4)
    assert all(slug.split("/")[0] in METER_SLUGS for slug in top), top


METER_SLUGS = {
    "read-smart-meter",
    "meter-running-fast",
    "prepaid-meter-topup",
    "meter-seal-and-inspection",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("smart meter", "read-smart-meter/en"),
        ("planned outgae notice", "planned-outage-notice/en"),  # a typo
        ("tierd tariff", "tiered-tariff/en"),
        ("RCD 跳闸", "tripped-breaker-rcd/en"),  # mixed Chinese and English
        ("电动汽车 charger", "ev-charger-connection/en"),
    ],
)
def test_english_typos_and_mixed_queries(seeded: Session, query: str, expected: str) -> None:
    assert expected in _top(seeded, query, n=3)


def test_internal_articles_are_for_staff_only(seeded: Session) -> None:
    staff = search(session=seeded, q="坐席话术", include_internal=True, limit=5).hits
    public = search(session=seeded, q="坐席话术", include_internal=False, limit=5).hits
    assert any(h.audience == "internal" for h in staff)
    assert all(h.audience == "public" for h in public)


def test_language_filter(seeded: Session) -> None:
    hits = search(session=seeded, q="RCD 跳闸", include_internal=True, limit=5, language="zh").hits
    assert hits and all(h.language == "zh" for h in hits)


def test_drafts_are_not_searched_until_published(seeded: Session) -> None:
    article = kb.create_article(
        session=seeded,
        slug="heat-pump-tariff",
        language="zh",
        category_code="tariff",
        audience="public",
        title="热泵采暖电价",
        body="使用空气源热泵采暖的居民可申请采暖电价。",
        actor="editor",
        now=NOW,
    )
    assert "heat-pump-tariff/zh" not in _top(seeded, "热泵", n=5)
    kb.publish(session=seeded, article=article, number=1, actor="editor", now=NOW)
    assert _top(seeded, "热泵", n=1) == ["heat-pump-tariff/zh"]
    number = kb.add_version(
        session=seeded,
        article=article,
        title="地源热泵采暖电价",
        body="使用地源热泵采暖的居民可申请采暖电价，需安装分表。",
        actor="editor",
        now=NOW,
    )
    assert number == 2
    assert "heat-pump-tariff/zh" not in _top(seeded, "分表", n=5)  # still a draft
    kb.publish(session=seeded, article=article, number=2, actor="editor", now=NOW)
    assert _top(seeded, "分表", n=1) == ["heat-pump-tariff/zh"]
    statuses = [v.status for v in kb.versions_of(session=seeded, article_id=article.id)]
    assert statuses == ["retired", "published"]


def test_snippet_shows_the_match(seeded: Session) -> None:
    hit = search(session=seeded, q="一氧化碳", include_internal=False, limit=1).hits[0]
    assert hit.slug == "generator-safety" and "一氧化碳" in hit.snippet


def test_nothing_to_search_for(seeded: Session) -> None:
    assert search(session=seeded, q="的了吗？", include_internal=True).hits == []
