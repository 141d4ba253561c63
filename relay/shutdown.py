"""How the daemon is asked to stop (SIGINT/SIGTERM; a second one forces), and a bound on how long
it may take to shut down (a stuck step must not hang it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable

log = logging.getLogger("jarshy.daemon")

SHUTDOWN_LIMIT = 20.0  # seconds; systemd's stop timeout is 90 s, the tests' 30 s


def _leave(code: int) -> None:
    """End the process now (the watchdog's way out); a test run replaces it with one that fails."""
    os._exit(code)


leave_process: Callable[[int], None] = _leave


def shutdown_watchdog(
    loop: asyncio.AbstractEventLoop, limit: float = SHUTDOWN_LIMIT
) -> threading.Timer:
    """If shutting down takes longer than ``limit``, say where it is stuck and exit anyway.

    Every stored bulletin is already a committed SQLite transaction (WAL, synchronous=FULL), so
    leaving without the remaining clean-up loses nothing; hanging would keep the radio and the
    socket from the next daemon. Cancel the returned timer once shutdown is done: a daemon that
    runs inside another program (a test) must not end that program later."""

    def stuck() -> None:
        waiting = []
        try:  # from another thread: best effort, it is only for the log
            for task in list(asyncio.all_tasks(loop)):
                frames = task.get_stack(limit=3)
                where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in frames) or "?"
                waiting.append(f"{task.get_name()} at {where}")
        except RuntimeError:
            waiting.append("?")
        log.error("shutdown stuck for %.0f s; exiting anyway. Waiting: %s", limit,
                  "; ".join(waiting))  # fmt: skip
        logging.shutdown()
        leave_process(0)

    timer = threading.Timer(limit, stuck)
    timer.daemon = True
    timer.start()
    return timer


def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set ``stop``; a second one exits at once.  Returns the function that
    gives both signals back (a daemon run inside another program must not keep them)."""

    def on_signal() -> None:
        if stop.is_set():
            log.warning("second signal: exiting now")
            os._exit(1)
        stop.set()

    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal)

    def remove() -> None:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)

    return remove
