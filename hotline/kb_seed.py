"""Seeding the knowledge base from a data file (the demo's articles, a site's own set).

The file holds categories and articles, each article one language of a slug:
``{"categories": [{"code", "name_en", "name_zh"}], "articles": [{"slug", "language",
"category", "audience", "title", "body"}]}``. Every seeded article is published at once.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from hotline.kb import NewVersion, insert_versions
from hotline.models import KbArticle, KbCategory


class SeedCategory(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name_en: str
    name_zh: str


class SeedArticle(BaseModel):
    slug: str = Field(min_length=1, max_length=96, pattern=r"^[a-z0-9][a-z0-9-]*$")
    language: Literal["zh", "en"]
    category: str
    audience: Literal["public", "internal"]
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1)


class SeedFile(BaseModel):
    about: str = ""
    categories: list[SeedCategory]
    articles: list[SeedArticle]


def read_seed_file(path: Path) -> SeedFile:
    """Parse and validate a seed file; errors name the file and the bad entry."""
    try:
        return SeedFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        msg = f"knowledge-base seed {path}: {exc}"
        raise InvalidInput(msg) from exc


def seed_articles(
    *, session: Session, articles: SeedFile, actor: str = "seed", now: dt.datetime | None = None
) -> int:
    """Create the categories (if missing) and articles (skipping slugs already there in the
    same language); returns how many articles were added."""
    now = now or dt.datetime.now(dt.UTC)
    categories = {c.code: c.id for c in session.scalars(select(KbCategory))}
    for seed in articles.categories:
        if seed.code not in categories:
            category = KbCategory(code=seed.code, name_en=seed.name_en, name_zh=seed.name_zh)
            session.add(category)
            session.flush()
            categories[seed.code] = category.id
    unknown = sorted({a.category for a in articles.articles} - set(categories))
    if unknown:
        msg = f"articles name unknown categories: {', '.join(unknown)}"
        raise InvalidInput(msg)
    existing = set(session.execute(select(KbArticle.slug, KbArticle.language)).all())
    new = [a for a in articles.articles if (a.slug, a.language) not in existing]
    rows = [
        KbArticle(
            slug=a.slug,
            language=a.language,
            category_id=categories[a.category],
            audience=a.audience,
            created_by=actor,
        )
        for a in new
    ]
    session.add_all(rows)
    session.flush()
    insert_versions(
        session=session,
        versions=[
            NewVersion(row.id, 1, a.title, a.body, actor, now, publish=True)
            for row, a in zip(rows, new, strict=True)
        ],
    )
    session.flush()
    return len(new)
