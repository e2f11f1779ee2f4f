"""Login (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from geo.auth import authenticate
from geo.models import User
from geo.schemas import Token, UserRead
from web.deps import SessionDep, SettingsDep, current_user, issue_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password for a bearer token."""
    user = authenticate(session=session, username=form.username, password=form.password)
    return Token(
        access_token=issue_token(user, settings), role=user.role, expires_in_s=settings.token_ttl_s
    )


@router.get("/me", response_model=UserRead)
def me(user: Annotated[User, Depends(current_user)]) -> UserRead:
    """The logged-in user."""
    return UserRead(id=user.id, username=user.username, role=user.role, crew_id=user.crew_id)
