"""A bound on how long the daemon may take to shut down (a stuck step must not hang it)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

log = logging.getLogger("jarshy.daemon")

SHUTDOWN_LIMIT = 20.0  # seconds; systemd's stop timeout is 90 s, the tests' 30 s


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
        os._exit(0)

    timer = threading.Timer(limit, stuck)
    timer.daemon = True
    timer.start()
    return timer
