"""Phone numbers as the whole system compares them: E.164, parsed with ``phonenumbers``.

One rule for every layer above (intake in ``outages/``, caller recognition and the CTI in
``hotline/``): a number is parsed in the installation's region (``GeoSettings.phone_region``,
Finland for the Helsinki demo), so ``+358 40 123 4567``, ``040 1234567``, ``00358401234567``
and ``358401234567`` (telephony systems send all of these) are the one number
``+358401234567``. Hand-written digit stripping could not tell a national ``040...`` from an
international ``358...``; the library's metadata can, and it rejects what is no number.

Premise records, reports and tickets keep numbers as they were typed or imported. Migration
0013's expression indexes are on their digits (``digits_sql``), so a lookup compares those
digits with the few digit strings a spelling of the number can reduce to (``phone_keys``):
still an index scan at a million premises, and no stored value had to be rewritten.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.orm import InstrumentedAttribute

from geo.exceptions import InvalidInput

# Longest input worth parsing: E.164 has at most 15 digits; spaces and an IDD prefix add some.
MAX_PHONE_CHARS = 40


def _bad(raw: str, field: str, region: str) -> InvalidInput:
    shown = raw if len(raw) <= MAX_PHONE_CHARS else raw[:MAX_PHONE_CHARS] + "..."
    code = phonenumbers.country_code_for_region(region)
    msg = (
        f"{field} {shown!r} is not a valid phone number: give it in international form "
        f"(+{code} ...) or as dialled in {region}"
    )
    return InvalidInput(msg)


def _valid(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(raw: str, *, region: str, field: str = "phone") -> str:
    """The number in E.164 (``+358401234567``); ``InvalidInput`` naming ``field`` otherwise.

    Parameters
    ----------
    raw
        The number as typed or sent: national (``040 1234567``), international with ``+``
        or the IDD prefix (``00358...``), or the bare international digits (``358...``).
    region
        ISO 3166 region national numbers are dialled in (``GeoSettings.phone_region``).
    field
        The request field the number came in, named in the error message.
    """
    text = raw.strip()
    if not text or len(text) > MAX_PHONE_CHARS:
        raise _bad(raw, field, region)
    number = _valid(text, region)
    if number is None and text[0].isdigit() and text[0] != "0":
        # Bare international digits of another country (``46701234567`` from a PBX): the
        # region's own country code is already tried by the parser.
        number = _valid("+" + text, region)
    if number is None:
        raise _bad(raw, field, region)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_keys(e164: str, *, region: str) -> list[str]:
    """The digit strings a stored spelling of ``e164`` reduces to, for index lookups.

    International (``358401234567``, also written ``+358 40 ...``), with the ``00`` IDD
    prefix, and, for a number of the installation's own country, the national form with its
    trunk prefix (``0401234567``): an imported register may hold any of them. A national
    form of a foreign number is not a key: in this region those digits are another number.
    """
    number = phonenumbers.parse(e164, None)
    digits = e164.lstrip("+")
    keys = [digits, "00" + digits]
    if number.country_code == phonenumbers.country_code_for_region(region):
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        keys.append("".join(ch for ch in national if ch.isdigit()))
    return list(dict.fromkeys(keys))


def digits_sql(column: InstrumentedAttribute[str | None]) -> ColumnElement[str]:
    """``regexp_replace(column, '[^0-9]', '', 'g')`` with literal arguments, so the planner
    matches it to the expression index (bound parameters would not match)."""
    return func.regexp_replace(
        column, literal_column("'[^0-9]'"), literal_column("''"), literal_column("'g'")
    )


def phone_matches(
    column: InstrumentedAttribute[str | None], e164: str, *, region: str
) -> ColumnElement[bool]:
    """``column`` holds ``e164`` in any spelling ``phone_keys`` knows (digit index scan)."""
    return digits_sql(column).in_(phone_keys(e164, region=region))
