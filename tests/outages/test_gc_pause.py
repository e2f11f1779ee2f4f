"""The collector's pause around batches: nested and concurrent pauses end with the last,
and a collector that was off stays off."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from outages.intake import gc_pause
from outages.intake.gc_pause import collector_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_pauses_nest_and_overlap_across_threads() -> None:
    inside = threading.Event()
    release = threading.Event()

    def other_batch() -> None:
        with collector_paused():
            inside.set()
            release.wait(5)

    with collector_paused():
        assert not gc.isenabled()
        thread = threading.Thread(target=other_batch)
        thread.start()
        assert inside.wait(5)
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled(), "the other thread's batch still runs"
    release.set()
    thread.join(5)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_failing_batch_ends_its_pause() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_collector_switched_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


@contextmanager
def batch_in_another_thread() -> Iterator[None]:
    """A batch filing in another thread for as long as the block runs."""
    release = threading.Event()
    held = threading.Event()

    def long_batch() -> None:
        with collector_paused():
            held.set()
            release.wait(5)

    thread = threading.Thread(target=long_batch)
    thread.start()
    assert held.wait(5)
    try:
        yield
    finally:
        release.set()
        thread.join(5)


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.mark.usefixtures("collector_on")
def test_batches_overlapping_without_end_still_let_cycles_be_collected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gc_pause, "MAX_PAUSE_S", 0.0)
    with batch_in_another_thread():
        dropped = weakref.ref(_Node())  # garbage the moment it is made, but a cycle
        with collector_paused():
            assert dropped() is not None, "no collection inside the pause"
        assert dropped() is None, "a batch ending in an old pause ran a young collection"
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_cycles_that_outlive_a_young_collection_are_found_by_the_full_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gc_pause, "MAX_PAUSE_S", 0.0)
    monkeypatch.setattr(gc_pause, "FULL_EVERY_S", 0.0)
    with batch_in_another_thread():
        node = _Node()
        dropped = weakref.ref(node)
        with collector_paused():
            pass  # a collection while the cycle is in use: it moves to an older generation
        assert dropped() is not None
        del node
        with collector_paused():
            pass
        assert dropped() is None, "the full collection found it"
