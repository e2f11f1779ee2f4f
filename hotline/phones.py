"""Phone numbers as the centre matches them: digits only.

Premise records, reports and tickets keep numbers as typed (``+358 40 000 0001``), a
telephony system sends them bare (``358400000001``). Both compare equal once reduced to their
digits; migration 0013 adds expression indexes on exactly ``digits_sql`` so the lookup of a
caller's premises stays an index scan at a million premises (``bench/caller_card.py``).
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.orm import InstrumentedAttribute

from geo.exceptions import InvalidInput

_SEPARATORS = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"\+?\d{5,15}")


def normalize_phone(raw: str) -> str:
    """The digits of a phone number; ``InvalidInput`` naming the value when it is none.

    Spaces, dots, dashes, slashes and brackets are dropped and one leading ``+`` is allowed;
    what is left must be 5 to 15 digits (E.164 allows 15).
    """
    compact = _SEPARATORS.sub("", raw.strip())
    if not _PHONE.fullmatch(compact):
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        msg = (
            f"phone {shown!r} is not a phone number: give 5 to 15 digits, optionally with a "
            "leading + and spaces or dashes"
        )
        raise InvalidInput(msg)
    return compact.lstrip("+")


def digits_sql(column: InstrumentedAttribute[str | None]) -> ColumnElement[str]:
    """``regexp_replace(column, '[^0-9]', '', 'g')`` with literal arguments, so the planner
    matches it to the expression index (bound parameters would not match)."""
    return func.regexp_replace(
        column, literal_column("'[^0-9]'"), literal_column("''"), literal_column("'g'")
    )
