"""A daemon whose shutdown gets stuck still exits, and says where it was stuck."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.daemon.conftest import ROOT

STUCK = """
import asyncio, logging
from relay.shutdown import shutdown_watchdog
logging.basicConfig(level=logging.INFO)

async def never_done() -> None:
    while True:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            continue  # a step that swallows cancellation

async def main() -> None:
    shutdown_watchdog(asyncio.get_running_loop(), limit=0.5)
    await asyncio.create_task(never_done(), name="stuck-step")

asyncio.run(main())
"""


def test_a_stuck_shutdown_exits_after_the_limit_and_names_the_step() -> None:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", STUCK], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert time.monotonic() - start < 20
    assert "shutdown stuck" in done.stderr and "stuck-step at never_done" in done.stderr
