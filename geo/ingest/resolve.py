"""Resolution against the database: codes to ids, and links that must form trees.

Each kind of layer has its resolver (``RESOLVERS``); premises have more to derive, in
``geo.ingest.premises``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.ingest.layer import Layer, Resolved
from geo.ingest.premises import (
    check_transformers,
    derive_from_location,
    normalized_addresses,
)
from geo.ingest.schemas import ImportKind


def _resolve_regions(session: Session, parsed: Layer) -> Resolved:
    resolved = _resolve_references(session, parsed)
    _check_tree(session, parsed)
    return resolved


def _resolve_feeders(session: Session, parsed: Layer) -> Resolved:
    return _resolve_references(session, parsed)


def _resolve_devices(session: Session, parsed: Layer) -> Resolved:
    resolved = _resolve_references(session, parsed)
    if "upstream_code" in parsed.present:
        _check_upstream_feeders(session, parsed, resolved["feeder_id"])
    _check_tree(session, parsed)
    return resolved


def _resolve_premises(session: Session, parsed: Layer) -> Resolved:
    """References, then normalized addresses, then feeder/region/transformer where missing."""
    resolved = _resolve_references(session, parsed)
    resolved.update(normalized_addresses(parsed))
    check_transformers(session, parsed, resolved)
    derive_from_location(session, parsed, resolved)
    return resolved


RESOLVERS: dict[ImportKind, Callable[[Session, Layer], Resolved]] = {
    "regions": _resolve_regions,
    "feeders": _resolve_feeders,
    "devices": _resolve_devices,
    "premises": _resolve_premises,
}


def _codes_to_ids(session: Session, table: str, codes: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        text(f"SELECT code, id FROM {table} WHERE code = ANY(:codes)"),
        {"codes": sorted(set(codes))},
    )
    return {code: int(row_id) for code, row_id in rows}


def _resolve_references(session: Session, parsed: Layer) -> Resolved:
    """Database ids for every ``*_code`` column; a code found nowhere is a row error.

    A parent code may also name a row of the file itself: its id exists only after the
    write, so it is looked up then.
    """
    resolved: Resolved = {}
    keys_in_file = set(parsed.values[parsed.schema.key])
    for fld in parsed.schema.fields:
        if fld.references is None:
            continue
        codes = parsed.values[fld.name]
        ids = _codes_to_ids(session, fld.references, (c for c in codes if c is not None))
        in_file = fld.name == parsed.schema.parent
        for row, code in enumerate(codes):
            if code is not None and code not in ids and not (in_file and code in keys_in_file):
                where = " in the database or in this file" if in_file else ""
                parsed.fail(
                    row,
                    fld.name,
                    f'{fld.references} "{code}" does not exist{where}: import it first or fix '
                    "the code",
                )
        resolved[fld.db_column] = [ids.get(code) for code in codes]
    return resolved


def _check_tree(session: Session, parsed: Layer) -> None:
    """Refuse parent links that would close a loop, with the rows of the file in it.

    The file's links replace the stored ones of the same codes, so a loop may run through
    rows of the database that the file does not mention.
    """
    parent = parsed.schema.parent
    if parent is None or parent not in parsed.present:
        return
    table = parsed.schema.table.name
    parent_id = parent.removesuffix("_code") + "_id"
    stored = session.execute(
        text(f"SELECT c.code, p.code FROM {table} c LEFT JOIN {table} p ON p.id = c.{parent_id}")
    )
    parents: dict[str, str | None] = dict(stored.all())
    row_of: dict[str, int] = {}
    for row, (code, up) in enumerate(
        zip(parsed.values["code"], parsed.values[parent], strict=True)
    ):
        if code is not None:
            parents[code] = up
            row_of.setdefault(code, row)
    for loop in _loops(parents, row_of):
        chain = " -> ".join(f'"{code}"' for code in [*loop, loop[0]])
        for code in loop:
            if code in row_of:
                parsed.fail(row_of[code], parent, f"closes a loop {chain}: links must form a tree")


def _loops(parents: Mapping[str, str | None], starts: Iterable[str]) -> list[list[str]]:
    """Every loop reached by following ``parents`` up from ``starts``, each reported once."""
    done: set[str] = set()
    loops: list[list[str]] = []
    for start in starts:
        path: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in position:
            position[node] = len(path)
            path.append(node)
            node = parents.get(node)
        if node is not None and node in position:
            loops.append(path[position[node] :])
        done.update(path)
    return loops


def _check_upstream_feeders(session: Session, parsed: Layer, feeder_ids: list[Any]) -> None:
    """A device hangs below a device of its own feeder: each feeder's tree stands alone."""
    feeder_codes = parsed.values["feeder_code"]
    feeder_of = dict(
        session.execute(
            text(
                "SELECT d.code, f.code FROM device d JOIN feeder f ON f.id = d.feeder_id "
                "WHERE d.code = ANY(:codes)"
            ),
            {"codes": sorted({c for c in parsed.values["upstream_code"] if c is not None})},
        ).all()
    )
    for row, code in enumerate(parsed.values["code"]):
        if code is not None and feeder_ids[row] is not None:
            feeder_of[code] = feeder_codes[row]
    for row, upstream in enumerate(parsed.values["upstream_code"]):
        if upstream is None:
            continue
        own, theirs = feeder_codes[row], feeder_of.get(upstream)
        if own is not None and theirs is not None and own != theirs:
            parsed.fail(
                row,
                "upstream_code",
                f'device "{upstream}" is on feeder "{theirs}", not "{own}": a device hangs '
                "below a device of its own feeder",
            )
