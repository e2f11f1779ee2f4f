"""The centre's timers in a process of their own, beside the web workers.

Why a process: in a storm the dispatch cycle runs while reports pour in, and inside a web
worker it shares that worker's GIL with the reports (about 15% of a worker's samples in the
storm-rate profile, bench/RESULTS.md). With several workers each one also ran its own copy
of the cycle every interval. ``stormdesk serve`` therefore starts one timers process
(``TimersProcess``), serves with the in-app heartbeat off, and restarts the timers process
if it ever dies; ``stormdesk timers`` runs the same loop on its own (a second machine, or a
service manager's unit).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from types import FrameType

from geo.database import engine_from_settings, make_sessionmaker
from web.heartbeat import cycle_once, hotline_once
from web.settings import Settings

log = logging.getLogger("stormdesk.timers")

# A timers process that died is started again after this pause (a crash loop stays slow).
RESTART_PAUSE_S = 2.0
# How long a stopping timers process may take to finish the job it is in.
STOP_GRACE_S = 30.0


def run_timers(settings: Settings, stop: threading.Event, *, rounds: int | None = None) -> int:
    """Run the dispatch cycle and the hotline timers every ``cycle_interval_s`` until
    ``stop`` is set (or ``rounds`` rounds are done); the number of rounds run.

    Each job is its own transaction and a failure is logged, never raised: a database that
    is down makes each round fail until it is back, and the next round then works.
    """
    engine = engine_from_settings(settings)
    factory = make_sessionmaker(engine)
    done = 0
    try:
        while not stop.is_set() and (rounds is None or done < rounds):
            for name, job in (("dispatch cycle", cycle_once), ("hotline timers", hotline_once)):
                try:
                    job(factory, settings)
                except Exception:  # one failed run must not stop the next ones
                    log.exception("%s failed", name)
            done += 1
            stop.wait(settings.cycle_interval_s)
    finally:
        engine.dispose()
    return done


def timers_main(settings: Settings) -> None:
    """Run the timers until SIGTERM (or SIGINT when run on its own), finishing the job in
    progress; a server's timers process also ends when its server is gone.

    A server's child ignores SIGINT: Ctrl-C in a terminal reaches the whole process group,
    and the server stops its timers itself once its workers have finished.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s timers %(message)s")
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    parent = multiprocessing.parent_process()
    if parent is None:
        signal.signal(signal.SIGINT, _stop)
    else:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # A server killed outright (SIGKILL, OOM) must not leave its timers running.
        threading.Thread(target=_stop_with, args=(parent, stop), daemon=True).start()
    log.info("timers process %d runs every %s s", os.getpid(), settings.cycle_interval_s)
    run_timers(settings, stop)


def _stop_with(parent: multiprocessing.process.BaseProcess, stop: threading.Event) -> None:
    parent.join()
    stop.set()


class TimersProcess:
    """One timers process for a server, started again whenever it exits by itself."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # spawn, not fork: the parent may already hold threads and connections.
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._keep_running, name="timers-watch", daemon=True)
        self.starts = 0

    @property
    def pid(self) -> int | None:
        """The running timers process's id, if one runs."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def start(self) -> None:
        self._spawn()
        self._watch.start()

    def _spawn(self) -> None:
        process = self._context.Process(
            target=timers_main, args=(self._settings,), name="stormdesk-timers"
        )
        process.start()
        self._process = process
        self.starts += 1

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            process.join(timeout=0.5)
            if process.is_alive() or self._stopping.is_set():
                continue
            log.error("the timers process exited (code %s); starting it again", process.exitcode)
            if self._stopping.wait(RESTART_PAUSE_S):
                return
            self._spawn()

    def stop(self) -> None:
        """Ask the timers process to finish its job and end; kill it after the grace."""
        self._stopping.set()
        process = self._process
        if process is None:
            return
        if process.is_alive():
            process.terminate()  # SIGTERM: the loop ends after the job in progress
            process.join(STOP_GRACE_S)
        if process.is_alive():
            process.kill()
            process.join()
        if self._watch.is_alive():
            self._watch.join(timeout=5)
