"""Address normalization shared by the premise loader, the importer and the geocoder.

Both sides of a match must be normalized by the same function, so a caller typing
"toolonkatu 12a, 00100 helsinki" meets the premise stored as "Töölönkatu 12 A".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A token that starts a house number: "12", "12a", "12-14", "12a-c".
_HOUSE_START = re.compile(r"^\d")
_HOUSE = re.compile(r"^(\d+)([a-z]?)(?:-(\d+)?([a-z]?))?$")
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")


@dataclass(frozen=True)
class NormalizedAddress:
    """A normalized address: street name, house number (with letter or range), and both."""

    street: str
    house: str

    @property
    def full(self) -> str:
        return f"{self.street} {self.house}".strip()


def fold(text: str) -> str:
    """Case-fold, strip diacritics and turn punctuation into spaces.

    Hyphens between digits survive (house number ranges); other hyphens become spaces so
    "Pohjois-Esplanadi" and "Pohjois Esplanadi" are the same street.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_DASHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    stripped = stripped.replace("ß", "ss")
    stripped = re.sub(r"(?<=\d)\s*-\s*(?=\d)", "\x00", stripped)
    stripped = re.sub(r"[^\w\x00]+|_", " ", stripped)
    return " ".join(stripped.replace("\x00", "-").split())


def normalize_house(token: str, letter: str = "") -> str:
    """Canonical house number: ``12 A`` -> ``12a``, ``12-14`` stays, ``012`` -> ``12``."""
    match = _HOUSE.match(token + letter if letter and token.isdigit() else token)
    if not match:
        return token
    number, suffix, end, end_suffix = match.groups()
    house = f"{int(number)}{suffix}"
    if end or end_suffix:
        house += f"-{int(end) if end else ''}{end_suffix}"
    return house


def house_base(house: str) -> int | None:
    """The leading number of a house number, for matching 13 against the range 12-14."""
    match = re.match(r"\d+", house)
    return int(match.group()) if match else None


def house_range(house: str) -> tuple[int, int] | None:
    """The numeric span a house number covers (``12-14`` -> (12, 14), ``12a`` -> (12, 12))."""
    match = _HOUSE.match(house)
    if not match:
        return None
    start = int(match.group(1))
    end = int(match.group(3)) if match.group(3) else start
    return (start, end) if end >= start else (start, start)


def normalize_address(text: str) -> NormalizedAddress:
    """Split free text into a normalized street name and house number.

    The street is every token before the first one that starts with a digit; the house
    number is that token plus a following single letter (a staircase, "12 A"). What comes
    after (apartment, postcode, city) is dropped: it does not help find the premise.
    """
    tokens = fold(text).split()
    for i, token in enumerate(tokens):
        if i > 0 and _HOUSE_START.match(token):
            letter = ""
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            if len(following) == 1 and following.isalpha():
                letter = following
            return NormalizedAddress(" ".join(tokens[:i]), normalize_house(token, letter))
    return NormalizedAddress(" ".join(tokens), "")
