"""Users and passwords (argon2), login throttling and revocation. Tokens are a web concern
and live in ``web/``; here a user's ``token_version`` says which tokens are still good."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geo import login_throttle
from geo.audit import record
from geo.exceptions import InvalidInput, LoginFailed, NotFound
from geo.models import ROLES, User
from geo.passwords import MIN_PASSWORD_CHARS, weak_reason
from geo.types import check_text_field

_hasher = PasswordHasher()
__all__ = ["MIN_PASSWORD_CHARS", "authenticate", "create_user", "normalize_username", "revoke"]
USERNAME = re.compile(r"[\w.@+-]{1,64}")
MAX_PASSWORD_CHARS = 1024  # argon2 hashes any length; a megabyte password is an attack


@cache
def _dummy_hash() -> str:
    """Verifying against a dummy hash for unknown users keeps response times from telling
    an attacker which usernames exist; made on first use, not at import (it costs ~50 ms)."""
    return _hasher.hash("stormdesk-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalize_username(username: str) -> str:
    """The stored form of a login name: trimmed and case-folded ("Admin " is "admin")."""
    return check_text_field(username, "username").strip().casefold()


def create_user(
    *, session: Session, username: str, role: str, password: str, crew_id: int | None = None
) -> User:
    """Add a user; refuses unknown roles, weak passwords, odd names and taken names."""
    name = normalize_username(username)
    if not USERNAME.fullmatch(name):
        msg = "username must be 1 to 64 letters, digits or . _ @ + - (no spaces)"
        raise InvalidInput(msg)
    if role not in ROLES:
        msg = f"unknown role {role!r}: choose one of {', '.join(ROLES)}"
        raise InvalidInput(msg)
    if role == "crew" and crew_id is None:
        msg = "a crew user needs its crew: give the crew id"
        raise InvalidInput(msg)
    check_text_field(password, "password")
    problem = weak_reason(password, name)
    if problem is not None:
        raise InvalidInput(problem)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        msg = f"user {name!r} already exists"
        raise InvalidInput(msg)
    user = User(username=name, role=role, password_hash=hash_password(password), crew_id=crew_id)
    session.add(user)
    session.flush()
    return user


def authenticate(
    *, session: Session, username: str, password: str, address: str | None, now: dt.datetime
) -> User:
    """The active user with this name and password, else ``LoginFailed`` (counted and
    audited) or ``TooManyAttempts`` while the name or the address is locked out."""
    name = normalize_username(username)[:64]
    check_text_field(password, "password")
    keys = login_throttle.keys_for(username=name, address=address)
    login_throttle.check(session=session, keys=keys, now=now)
    user = session.scalar(select(User).where(User.username == name, User.active.is_(True)))
    try:
        if len(password) > MAX_PASSWORD_CHARS:
            raise VerificationError
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except VerificationError:
        user = None
    if user is None:
        login_throttle.fail(session=session, keys=keys, now=now)
        record(
            session=session,
            actor=name or "anonymous",
            action="auth.login_failed",
            object_type="user",
            object_id=name,
            detail={"address": address},
            at=now,
        )
        msg = "wrong username or password"
        raise LoginFailed(msg)
    login_throttle.succeed(session=session, username=name)
    return user


def revoke(*, session: Session, username: str, actor: str, now: dt.datetime) -> User:
    """End every token of the user (logout everywhere, or an admin's revocation)."""
    name = normalize_username(username)
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        msg = f"no user {name!r}"
        raise NotFound(msg)
    session.execute(
        update(User).where(User.id == user.id).values(token_version=User.token_version + 1)
    )
    session.refresh(user)
    record(
        session=session,
        actor=actor,
        action="auth.tokens_revoked",
        object_type="user",
        object_id=name,
        detail={"token_version": user.token_version},
        at=now,
    )
    session.flush()
    return user
