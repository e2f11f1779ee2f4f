"""The worker's start-up heap, frozen out of the cyclic garbage collector once loaded.

A worker holds for its whole life the territory's feeder trees and the premises below each
transformer (the group writer's preload), the region index and the status memory's
premises: millions of objects, and every full collection of the cyclic garbage collector
walked them all. In a storm the requests' short-lived objects trigger a full collection
every 0.7 s, and each took 220-260 ms with the GIL held (bench/RESULTS.md): the group
writer and every request stood still for it, and that was most of the single reports' p99.

Once those caches are loaded, ``gc.freeze()`` moves everything then alive to the permanent
generation: later full collections walk only what came after. Reference counting still
frees a frozen object when nothing refers to it (a cache replaced after an import, the
status memory's premises reloaded), so only a reference cycle inside a dropped cache would
outlive it: the caches hold none (plain dicts, lists, arrays and tuples).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

POLL_S = 0.2


def freeze_now() -> int:
    """Collect what is garbage already, then freeze the rest; returns how many objects the
    permanent generation holds."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def freeze_when_loaded(loaded: Sequence[Callable[[], bool]], *, timeout_s: float) -> int:
    """Freeze the heap once every ``loaded`` says so, or after ``timeout_s`` whatever is
    loaded by then (a cache that never loads must not keep the rest in every collection).

    Run as a task in the worker's lifespan; returns the frozen count.
    """
    deadline = time.monotonic() + timeout_s
    while not all(check() for check in loaded) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
    started = time.perf_counter()
    frozen = freeze_now()
    log.info(
        "start-up heap frozen: %d objects out of the cyclic collector (%.2f s)",
        frozen,
        time.perf_counter() - started,
    )
    return frozen
