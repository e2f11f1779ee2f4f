"""The cyclic garbage collector paused while a batch is filed.

A batch of 10,000 storm reports allocates some 400,000 tracked objects (reports, answers,
affected-premise rows) that live until it commits, and the collector walked them again and
again as they piled up: 400-600 young and 1-5 full collections a batch, 0.1-0.55 s of its
1.6-3.7 s (``bench.batch_phases``, bench/RESULTS.md). They are freed by reference counting
when the batch ends (plain dicts, lists, tuples and dataclasses: no cycles), so nothing is
lost by not looking for cycles among them meanwhile.

The collector is process-wide: the pause lasts while any thread files a batch (the group
writer and the batch route may overlap), and the collector runs again, if it ran before the
first pause, when the last one ends. Other threads' cyclic garbage waits those seconds.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside; nested and concurrent pauses end with the last."""
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()
