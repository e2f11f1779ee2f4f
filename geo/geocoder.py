"""Address text -> ranked premises: exact normalized match first, then fuzzy.

Fuzzy search runs over street names (distinct, few) and only then looks up house numbers;
searching whole address strings does not scale (DESIGN.md 9). Street names one typo away
(a character deleted, inserted, substituted or two swapped) are found by looking each such
spelling (some 700 for a 13-letter name) up in a per-process set of the known street
names, refreshed every few minutes: well under a millisecond, where trigram
nearest-neighbour search on the street table's GiST index took 10-17 ms at 25,000 streets
and the same exact lookups in SQL 3-8 ms (bench/RESULTS.md). The exact address and the
premises on those streets then come back in one statement, so a query typically costs one
round trip. A stale set costs only speed, never answers: a street it lacks is still found
by the trigram search that follows, and one it holds but the database no longer does
matches no premise. Trigram search stays the fallback for names further off.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.normalize import NormalizedAddress, house_base, house_range, normalize_address
from geo.schemas import GeocodeMatch, GeocodeResult

STREET_CANDIDATES = 5
STREET_NAMES_TTL_S = 300.0
# Typos are tried as edits over what folded street names are made of (geo.normalize.fold);
# digits are left out, rare in street names, to keep the spellings to some 700.
STREET_ALPHABET = "abcdefghijklmnopqrstuvwxyz "
# How much a house-number mismatch lowers confidence: a missing or different staircase
# letter is close, a number inside a range ("13" in "12-14") a little less so.
LETTER_FACTOR = 0.9
RANGE_FACTOR = 0.85
NEAREST_HOUSE_FACTOR = 0.5
STREET_ONLY_FACTOR = 0.5
# One typo in a street name is the commonest hotline error; trigram similarity punishes
# it hard on short names ("Bulevadri" ~ "bulevardi" 0.43), so a street one edit away counts
# as this similar at least. Two such streets tie, and callers then see both.
ONE_EDIT_SIMILARITY = 0.85
HINT = "Check the street name and house number, for example 'Mannerheimintie 5, Helsinki'."

_PREMISE_COLUMNS = "id, address, street_norm, house_norm, ST_X(geom) AS lon, ST_Y(geom) AS lat"


@dataclass(frozen=True)
class _StreetNames:
    names: frozenset[str]
    loaded_at: float


# Known street names per database (engine URL); see the module docstring.
_street_names: dict[str, _StreetNames] = {}
_street_names_lock = threading.Lock()


@dataclass(frozen=True)
class _Row:
    id: int
    address: str
    street_norm: str
    house_norm: str
    lon: float
    lat: float


def geocode(
    *,
    session: Session,
    query: str,
    limit: int = 5,
    min_score: float = 0.35,
    distinct: bool = False,
) -> GeocodeResult:
    """Ranked premise candidates for free address text.

    Parameters
    ----------
    session
        Database session.
    query
        What the caller typed; case, diacritics, punctuation, a trailing postcode and city,
        and house-number letters are normalized away.
    limit
        The most candidates to return.
    min_score
        Candidates scoring lower are left out, so a nonsense query answers with a hint
        rather than with random streets.
    distinct
        One candidate per address text (the best-ranked premise): OpenStreetMap has several
        objects (shops, entrances) at one address, and a customer picking an address should
        not see it four times while the address they meant is pushed off the list.
    """
    norm = normalize_address(query)
    if not norm.street:
        return GeocodeResult(query=query, matches=[], hint=HINT)
    exact, scored = _on_streets(
        session,
        norm,
        _streets_one_edit_away(session, norm.street),
        min_similarity=ONE_EDIT_SIMILARITY,
    )
    if exact:
        # An exact normalized address is the answer: fuzzy neighbours would only add noise.
        by_id = sorted(exact, key=lambda r: r.id)
        matches = [_match(r, 1.0, "exact") for r in (by_id if distinct else by_id[:limit])]
    else:
        scored = scored or _trigram_fallback(session, norm)
        scored.sort(key=lambda rs: (-rs[1], rs[0].id))
        window = len(scored) if distinct else limit * 2
        matches = [_match(r, s, "fuzzy") for r, s in scored[:window] if s >= min_score]
    matches = sorted(matches, key=lambda m: (-m.score, m.address))
    if distinct:
        matches = _one_per_address(matches)
    matches = matches[:limit]
    return GeocodeResult(query=query, matches=matches, hint=None if matches else HINT)


def _one_per_address(matches: list[GeocodeMatch]) -> list[GeocodeMatch]:
    """The first (best-ranked) match of each address text, in rank order."""
    seen: set[str] = set()
    kept = []
    for match in matches:
        if match.address not in seen:
            seen.add(match.address)
            kept.append(match)
    return kept


def _match(row: _Row, score: float, method: str) -> GeocodeMatch:
    return GeocodeMatch(
        premise_id=row.id,
        address=row.address,
        lon=row.lon,
        lat=row.lat,
        score=round(score, 3),
        method="exact" if method == "exact" else "fuzzy",
    )


def _rows(session: Session, sql: str, **params: object) -> list[_Row]:
    return [_Row(**r._mapping) for r in session.execute(text(sql), params)]


def _one_edit_spellings(street: str) -> list[str]:
    """``street`` and every string one edit (Damerau-Levenshtein) away from it."""
    splits = [(street[:i], street[i:]) for i in range(len(street) + 1)]
    spellings = {street}
    spellings.update(head + tail[1:] for head, tail in splits if tail)
    spellings.update(head + tail[1] + tail[0] + tail[2:] for head, tail in splits if len(tail) > 1)
    spellings.update(head + c + tail[1:] for head, tail in splits if tail for c in STREET_ALPHABET)
    spellings.update(head + c + tail for head, tail in splits for c in STREET_ALPHABET)
    return sorted(s for s in spellings if s.strip() == s and s)


def _known_street_names(session: Session) -> frozenset[str]:
    """The ``street`` table's names, loaded at most every ``STREET_NAMES_TTL_S`` seconds."""
    key = str(session.get_bind().engine.url)
    cached = _street_names.get(key)
    if cached is None or time.monotonic() - cached.loaded_at > STREET_NAMES_TTL_S:
        with _street_names_lock:
            cached = _street_names.get(key)
            if cached is None or time.monotonic() - cached.loaded_at > STREET_NAMES_TTL_S:
                names = frozenset(session.scalars(text("SELECT name_norm FROM street")))
                cached = _StreetNames(names=names, loaded_at=time.monotonic())
                _street_names[key] = cached
    return cached.names


def _streets_one_edit_away(session: Session, street: str) -> list[str]:
    """Known street names within one typo of ``street`` (``street`` itself included)."""
    known = _known_street_names(session)
    return [name for name in _one_edit_spellings(street) if name in known]


def _nearest_streets(session: Session, street: str) -> dict[str, float]:
    """The closest known street names by trigram distance, however far (no threshold)."""
    return {
        r.name_norm: float(r.sim)
        for r in session.execute(
            text(
                "SELECT name_norm, similarity(name_norm, :s) AS sim FROM street "
                "ORDER BY name_norm <-> :s LIMIT :k"
            ),
            {"s": street, "k": STREET_CANDIDATES},
        )
    }


def _trigram_fallback(session: Session, norm: NormalizedAddress) -> list[tuple[_Row, float]]:
    """Premises on the trigram-nearest streets, for names more than one typo off.

    Only when none of those streets has the house number are the nearest numbers on the
    most similar street offered, with low confidence.
    """
    streets = _nearest_streets(session, norm.street)
    if not streets:
        return []
    _, scored = _on_streets(session, norm, list(streets))
    if not scored:
        best = max(streets, key=lambda name: streets[name])
        scored = _nearest_houses(session, best, streets[best], house_base(norm.house))
    return scored


def _on_streets(
    session: Session, norm: NormalizedAddress, streets: list[str], min_similarity: float = 0.0
) -> tuple[list[_Row], list[tuple[_Row, float]]]:
    """Premises at exactly the normalized address, and those on ``streets`` answering the
    house number, scored by street similarity.

    One statement does both, computing the similarity too: under load, round trips
    rather than work set the tail latency.
    """
    sql = f"SELECT {_PREMISE_COLUMNS}, similarity(street_norm, :s) AS sim"
    params: dict[str, object] = {"s": norm.street, "streets": streets}
    if norm.house:
        base = house_base(norm.house)
        sql += (
            ", address_norm = :full AS exact FROM premise WHERE address_norm = :full OR "
            "(street_norm = ANY(:streets) AND (house_norm = :house OR house_norm ~ :same_base "
            "OR house_norm LIKE '%-%'))"
        )
        params |= {
            "full": norm.full,
            "house": norm.house,
            "same_base": f"^{base}([a-z]|-|$)" if base is not None else "^$",
        }
    else:
        sql += ", false AS exact FROM premise WHERE street_norm = ANY(:streets)"
    exact, scored = [], []
    for r in session.execute(text(sql), params):
        columns = dict(r._mapping)
        sim, is_exact = max(float(columns.pop("sim")), min_similarity), columns.pop("exact")
        row = _Row(**columns)
        if is_exact:
            exact.append(row)
            continue
        factor = _house_factor(norm.house, row.house_norm) if norm.house else STREET_ONLY_FACTOR
        if factor > 0:
            scored.append((row, sim * factor))
    return exact, scored


def _house_factor(wanted: str, have: str) -> float:
    """How well a premise's house number answers the one asked for (0 = not at all)."""
    if wanted == have:
        return 1.0
    want_span, have_span = house_range(wanted), house_range(have)
    if want_span is None or have_span is None:
        return 0.0
    if want_span == have_span:
        return LETTER_FACTOR
    if have_span[0] <= want_span[0] <= have_span[1] or want_span[0] <= have_span[0] <= want_span[1]:
        return RANGE_FACTOR
    return 0.0


def _nearest_houses(
    session: Session, street: str, street_sim: float, base: int | None
) -> list[tuple[_Row, float]]:
    """The right street but no such number: offer the closest numbers, with low confidence."""
    if base is None:
        return []
    rows = _rows(
        session,
        f"SELECT {_PREMISE_COLUMNS} FROM premise WHERE street_norm = :street "
        "ORDER BY abs(coalesce(substring(house_norm from '^[0-9]+')::int, 0) - :base), id "
        "LIMIT 3",
        street=street,
        base=base,
    )
    return [(r, street_sim * NEAREST_HOUSE_FACTOR) for r in rows]
