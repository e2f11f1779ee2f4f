"""A worker freezes its start-up heap once its caches are loaded (web/heap.py).

gc.freeze() is process-wide, so the worker runs in a process of its own: the test reads
what it reports about its heap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from web.settings import Settings

WORKER = textwrap.dedent(
    """
    import gc, json, sys, time
    from fastapi.testclient import TestClient
    from web.main import create_app
    from web.settings import Settings

    settings = Settings.model_validate_json(sys.argv[1])
    app = create_app(settings)
    with TestClient(app):
        writer = app.state.group_writer
        memory = app.state.status_memory

        def settled():
            loaded = writer.ready.is_set() and memory.live
            return loaded and (gc.get_freeze_count() > 0 or not settings.freeze_startup_heap)

        deadline = time.monotonic() + 60
        while not settled() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # a freeze the setting should have prevented would be seen by now
        tracked = gc.get_objects()
        print(json.dumps({
            "frozen": gc.get_freeze_count(),
            "writer_ready": writer.ready.is_set(),
            "memory_live": memory.live,
            "cache_tracked": any(o is writer.topology for o in tracked),
            "trees_tracked": any(o is writer.topology.trees for o in tracked),
        }))
    """
)


def _worker_heap(settings: Settings) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, settings.model_dump_json()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_caches_leave_the_cyclic_collector_once_loaded(settings: Settings) -> None:
    on = settings.model_copy(
        update={"freeze_startup_heap": True, "intake_group_commit": True, "status_memory": True}
    )
    heap = _worker_heap(on)
    assert heap["writer_ready"] and heap["memory_live"]
    # The writer's preloaded trees are out of the full collections' walk.
    assert heap["frozen"] > 10_000
    assert heap["cache_tracked"] is False and heap["trees_tracked"] is False
    # Without the setting they stay in it.
    off = _worker_heap(on.model_copy(update={"freeze_startup_heap": False}))
    assert off["frozen"] == 0 and off["cache_tracked"] is True
