"""Login (OAuth2 password flow), logout, who-am-I, and an admin's token revocation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from geo.auth import authenticate, revoke
from geo.models import User
from geo.schemas import Token, UserRead
from geo.types import Text
from web.deps import (
    CodePath,
    NowDep,
    SessionDep,
    SettingsDep,
    any_user,
    issue_token,
    require_role,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def login(
    request: Request,
    username: Annotated[Text, Form(max_length=256)],
    password: Annotated[Text, Form(max_length=1024)],
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    grant_type: Annotated[Text | None, Form(pattern="^password$")] = None,
    scope: Annotated[Text, Form(max_length=1024)] = "",
) -> Token:
    """Exchange a username and password for a bearer token (429 after repeated failures)."""
    address = request.client.host if request.client else None
    user = authenticate(
        session=session, username=username, password=password, address=address, now=now
    )
    return Token(
        access_token=issue_token(user, settings), role=user.role, expires_in_s=settings.token_ttl_s
    )


@router.post("/logout", status_code=204)
def logout(user: Annotated[User, Depends(any_user)], session: SessionDep, now: NowDep) -> Response:
    """End every token of the logged-in user (on every device)."""
    revoke(session=session, username=user.username, actor=user.username, now=now)
    return Response(status_code=204)


@router.post("/users/{username}/revoke", status_code=204)
def revoke_user(
    admin: Annotated[User, Depends(require_role("admin"))],
    username: CodePath,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """An admin ends every token of a user (a lost phone, a leaver)."""
    revoke(session=session, username=username, actor=admin.username, now=now)
    return Response(status_code=204)


@router.get("/me", response_model=UserRead)
def me(user: Annotated[User, Depends(any_user)]) -> UserRead:
    """The logged-in user."""
    return UserRead(id=user.id, username=user.username, role=user.role, crew_id=user.crew_id)
