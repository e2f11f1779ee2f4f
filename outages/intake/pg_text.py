"""Values as PostgreSQL reads them in text: JSON for jsonb, literals for number arrays.

A storm batch of 10,000 reports passes arrays of 10,000-70,000 ids to a dozen statements
and writes thousands of JSON documents (its roll-up events and explanations list every
report of an outage). psycopg's list dumper and the standard ``json`` module did that
element by element in Python: 8% and 15% of such a batch (bench/RESULTS.md). The server
reads the same values from these texts; an ``= ANY(%s)`` parameter takes its array type
from the column it is compared with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson


def json_text(value: Any) -> str:
    """JSON text for a jsonb column or parameter (the value jsonb stores is the same)."""
    return orjson.dumps(value).decode()


def int_array(values: Iterable[int]) -> str:
    """An array literal of integers, e.g. ``{1,2,3}``."""
    return "{" + ",".join(map(str, values)) + "}"


def float_array(values: Iterable[float]) -> str:
    """An array literal of floats; ``repr`` gives the shortest text that reads back exact."""
    return "{" + ",".join(map(repr, values)) + "}"
