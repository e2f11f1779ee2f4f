"""The knowledge base: categories, articles in Chinese or English, their versions, and the
tickets that used them.

An article's text lives in versions: editors write drafts, publishing one retires the version
published before (at most one is published; a partial unique index holds that), and search
reads only published versions. Each version stores its own search columns, computed from its
text when it is written (``hotline.segment``), so publishing needs no re-indexing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, NotFound
from hotline import segment
from hotline.exceptions import ArticleNotFound
from hotline.models import KbArticle, KbArticleVersion, KbCategory, Ticket, TicketArticle
from hotline.schemas import ArticleRead, VersionRead

_INSERT_VERSION = f"""
INSERT INTO kb_article_version (article_id, number, status, title, body, search_tsv,
    title_tsv, search_text, created_by, created_at, published_at, published_by)
VALUES (:article_id, :number, :status, :title, :body, {segment.TSVECTOR_SQL},
    {segment.TITLE_TSVECTOR_SQL}, :trigram_text, :actor, :now, :published_at, :published_by)
"""


@dataclass(frozen=True)
class NewVersion:
    """A version to write: the text and who wrote it; ``publish`` makes it the live one."""

    article_id: int
    number: int
    title: str
    body: str
    actor: str
    now: dt.datetime
    publish: bool


def _params(version: NewVersion) -> dict[str, object]:
    doc = segment.document(version.title, version.body)
    return {
        "article_id": version.article_id,
        "number": version.number,
        "status": "published" if version.publish else "draft",
        "title": version.title,
        "body": version.body,
        "title_words": doc.title_words,
        "body_words": doc.body_words,
        "title_chars": doc.title_chars,
        "body_chars": doc.body_chars,
        "trigram_text": doc.trigram_text,
        "actor": version.actor,
        "now": version.now,
        "published_at": version.now if version.publish else None,
        "published_by": version.actor if version.publish else None,
    }


def insert_versions(*, session: Session, versions: Sequence[NewVersion]) -> None:
    """Write versions in one batched statement (the seed and the bench write thousands),
    and add their Latin words to the vocabulary that corrects typos.

    Publishing ones must belong to articles without a published version.
    """
    if not versions:
        return
    session.execute(text(_INSERT_VERSION), [_params(v) for v in versions])
    terms = sorted({t for v in versions for t in segment.latin_words(f"{v.title} {v.body}")})
    if terms:
        session.execute(
            text(
                "INSERT INTO kb_term (term) SELECT unnest(CAST(:terms AS text[])) "
                "ON CONFLICT DO NOTHING"
            ),
            {"terms": terms},
        )


def get_category(*, session: Session, code: str) -> KbCategory:
    category = session.scalar(select(KbCategory).where(KbCategory.code == code))
    if category is None:
        known = session.scalars(select(KbCategory.code).order_by(KbCategory.code)).all()
        msg = f"unknown category {code!r}: known categories are {', '.join(known) or '(none)'}"
        raise InvalidInput(msg)
    return category


def create_category(*, session: Session, code: str, name_en: str, name_zh: str) -> KbCategory:
    if session.scalar(select(KbCategory.id).where(KbCategory.code == code)) is not None:
        msg = f"category {code!r} already exists"
        raise InvalidInput(msg)
    category = KbCategory(code=code, name_en=name_en, name_zh=name_zh)
    session.add(category)
    session.flush()
    return category


def list_categories(*, session: Session) -> list[KbCategory]:
    return list(session.scalars(select(KbCategory).order_by(KbCategory.code)))


def create_article(
    *,
    session: Session,
    slug: str,
    language: str,
    category_code: str,
    audience: str,
    title: str,
    body: str,
    actor: str,
    now: dt.datetime,
    publish: bool = False,
) -> KbArticle:
    """A new article with its first version (a draft unless ``publish``)."""
    category = get_category(session=session, code=category_code)
    taken = session.scalar(
        select(KbArticle.id).where(KbArticle.slug == slug, KbArticle.language == language)
    )
    if taken is not None:
        msg = f"article {slug!r} in {language} exists (#{taken}): add a version to it instead"
        raise InvalidInput(msg)
    article = KbArticle(
        slug=slug, language=language, category_id=category.id, audience=audience, created_by=actor
    )
    session.add(article)
    session.flush()
    version = NewVersion(article.id, 1, title, body, actor, now, publish)
    insert_versions(session=session, versions=[version])
    return article


def get_article(*, session: Session, article_id: int, staff: bool) -> KbArticle:
    """The article; the public sees only public articles with a published version."""
    article = session.get(KbArticle, article_id)
    if article is not None and not staff:
        live = published_version(session=session, article_id=article_id)
        if article.audience != "public" or live is None:
            article = None
    if article is None:
        msg = f"article #{article_id} not found"
        raise ArticleNotFound(msg)
    return article


def versions_of(*, session: Session, article_id: int) -> list[KbArticleVersion]:
    return list(
        session.scalars(
            select(KbArticleVersion)
            .where(KbArticleVersion.article_id == article_id)
            .order_by(KbArticleVersion.number)
        )
    )


def published_version(*, session: Session, article_id: int) -> KbArticleVersion | None:
    return session.scalar(
        select(KbArticleVersion).where(
            KbArticleVersion.article_id == article_id, KbArticleVersion.status == "published"
        )
    )


def add_version(
    *, session: Session, article: KbArticle, title: str, body: str, actor: str, now: dt.datetime
) -> int:
    """A new draft of the article; returns its number."""
    # The article row is locked so two editors cannot take the same number.
    session.execute(select(KbArticle.id).where(KbArticle.id == article.id).with_for_update())
    last = session.scalar(
        select(func.max(KbArticleVersion.number)).where(KbArticleVersion.article_id == article.id)
    )
    number = (last or 0) + 1
    insert_versions(
        session=session,
        versions=[NewVersion(article.id, number, title, body, actor, now, publish=False)],
    )
    return number


def publish(
    *, session: Session, article: KbArticle, number: int, actor: str, now: dt.datetime
) -> None:
    """Make version ``number`` the published one; the one before is retired."""
    session.execute(select(KbArticle.id).where(KbArticle.id == article.id).with_for_update())
    version = session.scalar(
        select(KbArticleVersion).where(
            KbArticleVersion.article_id == article.id, KbArticleVersion.number == number
        )
    )
    if version is None:
        msg = f"article #{article.id} has no version {number}"
        raise ArticleNotFound(msg)
    if version.status == "published":
        return
    current = published_version(session=session, article_id=article.id)
    if current is not None:
        current.status = "retired"
        session.flush()  # before the new one: the partial unique index allows one at a time
    version.status = "published"
    version.published_at = now
    version.published_by = actor
    session.flush()


def translations(*, session: Session, article: KbArticle) -> dict[str, int]:
    rows = session.execute(
        select(KbArticle.language, KbArticle.id).where(
            KbArticle.slug == article.slug, KbArticle.id != article.id
        )
    )
    return dict(rows.all())


def list_articles(
    *,
    session: Session,
    staff: bool,
    category_code: str | None = None,
    language: str | None = None,
) -> list[KbArticle]:
    """Articles by slug; the public sees published public ones only."""
    stmt = select(KbArticle)
    if not staff:
        stmt = stmt.where(
            KbArticle.audience == "public",
            KbArticle.id.in_(
                select(KbArticleVersion.article_id).where(KbArticleVersion.status == "published")
            ),
        )
    if category_code is not None:
        stmt = stmt.where(
            KbArticle.category_id == get_category(session=session, code=category_code).id
        )
    if language is not None:
        stmt = stmt.where(KbArticle.language == language)
    return list(session.scalars(stmt.order_by(KbArticle.slug, KbArticle.language)))


def link_articles(
    *,
    session: Session,
    ticket: Ticket,
    article_ids: Sequence[int],
    actor: str,
    now: dt.datetime,
) -> None:
    """Record that a ticket used these articles (linking twice is harmless)."""
    ids = list(dict.fromkeys(article_ids))
    found = set(session.scalars(select(KbArticle.id).where(KbArticle.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        msg = f"no knowledge-base article #{missing[0]}: link existing articles only"
        raise InvalidInput(msg)
    rows = [
        {"ticket_id": ticket.id, "article_id": i, "linked_by": actor, "linked_at": now} for i in ids
    ]
    session.execute(insert(TicketArticle).values(rows).on_conflict_do_nothing())


def tickets_of(*, session: Session, article_id: int) -> list[int]:
    """Ids of the tickets that used an article, newest link first."""
    if session.get(KbArticle, article_id) is None:
        msg = f"article #{article_id} not found"
        raise NotFound(msg)
    return list(
        session.scalars(
            select(TicketArticle.ticket_id)
            .where(TicketArticle.article_id == article_id)
            .order_by(TicketArticle.linked_at.desc(), TicketArticle.ticket_id)
        )
    )


def articles_of(*, session: Session, ticket_id: int) -> list[int]:
    return list(
        session.scalars(
            select(TicketArticle.article_id)
            .where(TicketArticle.ticket_id == ticket_id)
            .order_by(TicketArticle.article_id)
        )
    )


def _version(v: KbArticleVersion) -> VersionRead:
    return VersionRead.model_validate(v, from_attributes=True)


def read_article(*, session: Session, article: KbArticle, staff: bool) -> ArticleRead:
    """An article as the API shows it; only staff see its versions."""
    category = session.get(KbCategory, article.category_id)
    assert category is not None  # a foreign key
    live = published_version(session=session, article_id=article.id)
    return ArticleRead(
        id=article.id,
        slug=article.slug,
        language=article.language,
        audience=article.audience,
        category_code=category.code,
        category_en=category.name_en,
        category_zh=category.name_zh,
        published=_version(live) if live else None,
        versions=[_version(v) for v in versions_of(session=session, article_id=article.id)]
        if staff
        else [],
        translations=translations(session=session, article=article),
    )
