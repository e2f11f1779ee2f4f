"""The knowledge base: search (public articles without a login), articles, versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from geo.models import User
from geo.types import Text
from hotline import kb, kb_search
from hotline.schemas import (
    ArticleCreate,
    ArticleRead,
    CategoryCreate,
    CategoryRead,
    Language,
    SearchResult,
    VersionCreate,
)
from web.deps import (
    IdPath,
    NowDep,
    SessionDep,
    SettingsDep,
    current_user,
    lenient_user,
    require_role,
)

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])
Reader = Annotated[User | None, Depends(lenient_user)]
Staff = Annotated[User, Depends(current_user)]
Editor = Annotated[User, Depends(require_role("supervisor"))]


@router.get("/search", response_model=SearchResult)
def search(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    q: Annotated[Text, Query(min_length=1, max_length=200)],
    lang: Annotated[Language | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, le=50)] = None,
) -> SearchResult:
    """Search published articles; without a login only public ones."""
    return kb_search.search(
        session=session,
        q=q,
        include_internal=user is not None,
        language=lang,
        limit=limit or settings.kb_search_limit,
    )


@router.get("/categories", response_model=list[CategoryRead])
def list_categories(session: SessionDep) -> list[CategoryRead]:
    """Article categories."""
    return [
        CategoryRead.model_validate(c, from_attributes=True)
        for c in kb.list_categories(session=session)
    ]


@router.post("/categories", response_model=CategoryRead, status_code=201)
def post_category(data: CategoryCreate, session: SessionDep, user: Editor) -> CategoryRead:
    """Add a category."""
    category = kb.create_category(session=session, **data.model_dump())
    return CategoryRead.model_validate(category, from_attributes=True)


@router.get("/articles", response_model=list[ArticleRead])
def list_articles(
    session: SessionDep,
    user: Reader,
    category: Annotated[Text | None, Query(max_length=64)] = None,
    lang: Annotated[Language | None, Query()] = None,
) -> list[ArticleRead]:
    """Articles (without a login: published public ones)."""
    staff = user is not None
    rows = kb.list_articles(session=session, staff=staff, category_code=category, language=lang)
    return [kb.read_article(session=session, article=a, staff=staff) for a in rows]


@router.post("/articles", response_model=ArticleRead, status_code=201)
def post_article(
    data: ArticleCreate, session: SessionDep, now: NowDep, user: Editor
) -> ArticleRead:
    """Write a new article (its first version is a draft unless ``publish``)."""
    article = kb.create_article(session=session, **data.model_dump(), actor=user.username, now=now)
    return kb.read_article(session=session, article=article, staff=True)


@router.get("/articles/{article_id}", response_model=ArticleRead)
def get_article(user: Reader, article_id: IdPath, session: SessionDep) -> ArticleRead:
    """One article; drafts and internal articles for staff only."""
    staff = user is not None
    article = kb.get_article(session=session, article_id=article_id, staff=staff)
    return kb.read_article(session=session, article=article, staff=staff)


@router.post("/articles/{article_id}/versions", response_model=ArticleRead, status_code=201)
def post_version(
    user: Editor, article_id: IdPath, data: VersionCreate, session: SessionDep, now: NowDep
) -> ArticleRead:
    """A new draft version of an article."""
    article = kb.get_article(session=session, article_id=article_id, staff=True)
    kb.add_version(
        session=session,
        article=article,
        title=data.title,
        body=data.body,
        actor=user.username,
        now=now,
    )
    return kb.read_article(session=session, article=article, staff=True)


@router.post("/articles/{article_id}/versions/{number}/publish", response_model=ArticleRead)
def publish(
    user: Editor, article_id: IdPath, number: IdPath, session: SessionDep, now: NowDep
) -> ArticleRead:
    """Publish a version; the one published before is retired."""
    article = kb.get_article(session=session, article_id=article_id, staff=True)
    kb.publish(session=session, article=article, number=number, actor=user.username, now=now)
    return kb.read_article(session=session, article=article, staff=True)


@router.get("/articles/{article_id}/tickets", response_model=list[int])
def article_tickets(user: Staff, article_id: IdPath, session: SessionDep) -> list[int]:
    """Ids of the tickets that used this article."""
    return kb.tickets_of(session=session, article_id=article_id)
