"""The cyclic garbage collector paused while a batch is filed.

A batch of 10,000 storm reports allocates some 400,000 tracked objects (reports, answers,
affected-premise rows) that live until it commits, and the collector walked them again and
again as they piled up: 400-600 young and 1-5 full collections a batch, 0.1-0.55 s of its
1.6-3.7 s (``bench.batch_phases``, bench/RESULTS.md). They are freed by reference counting
when the batch ends (plain dicts, lists, tuples and dataclasses: no cycles), so nothing is
lost by not looking for cycles among them meanwhile.

The collector is process-wide: the pause lasts while any thread files a batch (the group
writer and the batch route may overlap), and the collector runs again, if it ran before the
first pause, when the last one ends. In a storm batches can overlap without end (the group
writer files group after group while batch requests wait for their feeders), so a batch
that ends inside a pause runs a collection of the two younger generations when the last was
more than ``MAX_PAUSE_S`` ago, and a full one every ``FULL_EVERY_S``: other threads' cycles
(exceptions and their frames, futures) are found even if they outlived a young collection.
The collections run outside the pause's lock, so finalizers never hold it.

What the pause does not avoid: when the last pause ends the collector's count is that of
every object allocated meanwhile, so its next allocation runs one young collection over
what the batch still holds (its locals until it returns, the session until it commits).
One walk a batch instead of hundreds. Code that calls ``gc.enable()`` meanwhile ends the
pause for everyone; a ``gc.disable()`` meanwhile is undone when the last pause ends.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE_S = 1.0
FULL_EVERY_S = 60.0

_lock = threading.Lock()
_pauses = 0
_resume = False
_collected_at = 0.0  # when the current pause began or last collected
_full_at = 0.0  # when the current pause began or last collected everything


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside; nested and concurrent pauses end with the last."""
    global _pauses, _resume, _collected_at, _full_at
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            _collected_at = _full_at = time.monotonic()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        generation = None
        with _lock:
            _pauses -= 1
            now = time.monotonic()
            if _pauses == 0:
                if _resume:
                    gc.enable()
            elif _resume and now - _full_at > FULL_EVERY_S:
                generation, _collected_at, _full_at = 2, now, now
            elif _resume and now - _collected_at > MAX_PAUSE_S:
                generation, _collected_at = 1, now
        if generation is not None:
            gc.collect(generation)
