"""Conditional GET: a strong ETag from the content hash, and 304 when the client has it.

A layer or feed is built whole as text, so hashing it is cheap next to the query, and the
same content always has the same tag whatever worker built it. ``If-None-Match`` is read
with the weak comparison RFC 9110 asks for (``W/`` prefixes ignored), so a tag that a proxy
weakened while compressing still matches.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

NOT_MODIFIED = 304


def etag_of(body: str | bytes) -> str:
    """The strong entity tag of ``body``: 128 bits of its SHA-256, quoted."""
    data = body.encode() if isinstance(body, str) else body
    return f'"{hashlib.sha256(data).hexdigest()[:32]}"'


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    if header.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in header.split(","))
    return etag in tags


def conditional(
    request: Request,
    body: str,
    *,
    media_type: str,
    cache_control: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """``body`` with its ETag, or an empty 304 when ``If-None-Match`` names that tag.

    Call it only after the route's own checks (authorization first): a 304 says "what you
    have is current", which is itself information about the resource.
    """
    etag = etag_of(body)
    extra = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=NOT_MODIFIED, headers=extra)
    return Response(body, media_type=media_type, headers=extra)
