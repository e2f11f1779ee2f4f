"""Users and passwords (argon2). Tokens are a web concern and live in ``web/``."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import AuthError, InvalidInput
from geo.models import ROLES, User

_hasher = PasswordHasher()
MIN_PASSWORD_CHARS = 8


@cache
def _dummy_hash() -> str:
    """Verifying against a dummy hash for unknown users keeps response times from telling
    an attacker which usernames exist; made on first use, not at import (it costs ~50 ms)."""
    return _hasher.hash("stormdesk-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    *, session: Session, username: str, role: str, password: str, crew_id: int | None = None
) -> User:
    """Add a user; refuses unknown roles, short passwords and taken names."""
    if role not in ROLES:
        msg = f"unknown role {role!r}: choose one of {', '.join(ROLES)}"
        raise InvalidInput(msg)
    if len(password) < MIN_PASSWORD_CHARS:
        msg = f"password must have at least {MIN_PASSWORD_CHARS} characters"
        raise InvalidInput(msg)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        msg = f"user {username!r} already exists"
        raise InvalidInput(msg)
    user = User(
        username=username, role=role, password_hash=hash_password(password), crew_id=crew_id
    )
    session.add(user)
    session.flush()
    return user


def authenticate(*, session: Session, username: str, password: str) -> User:
    """The active user with this name and password, else ``AuthError``."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except VerificationError:
        user = None
    if user is None:
        msg = "wrong username or password"
        raise AuthError(msg)
    return user
