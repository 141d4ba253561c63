"""Carry out the sync engine's spam brake on the real radio (``set_ignored_node``, then lift it).

The decision is the engine's (relay.sync.quarantine); this module is the daemon-side edge that
turns it into admin messages on the event loop and lifts each quarantine when it expires.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from relay.radio.link import RadioLink
from relay.radio.linktypes import LinkDown

log = logging.getLogger(__name__)


class RadioQuarantine:
    """Radios our radio ignores, with when each quarantine ends (Unix time)."""

    def __init__(self, link: Callable[[], RadioLink | None]) -> None:
        self._link = link
        self.until: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def apply(self, requests: list[tuple[int, float]]) -> None:
        """Start the quarantines the engine asked for (call on the event loop)."""
        for num, seconds in requests:
            log.warning(
                "radio !%08x sent forged or untrusted bulletins at a spam rate: "
                "our radio ignores it for %d min",
                num,
                round(seconds / 60),
            )
            self.until[num] = time.time() + seconds
            self._spawn(self._set(num, True))
            asyncio.get_running_loop().call_later(seconds, self._lift, num)

    def status(self) -> list[dict[str, object]]:
        """For ``jarshy status``: who is ignored, until when."""
        now = time.time()
        return [
            {"node": f"!{num:08x}", "until": round(until)}
            for num, until in sorted(self.until.items())
            if until > now
        ]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _lift(self, num: int) -> None:
        if self.until.get(num, 0.0) <= time.time() + 1.0:
            self.until.pop(num, None)
            self._spawn(self._set(num, False))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _set(self, num: int, ignored: bool) -> None:
        link = self._link()
        if link is None:
            return  # simulated mesh: nothing to tell
        try:
            await link.set_ignored(num, ignored)
        except LinkDown as exc:
            log.warning(
                "could not %s radio !%08x: %s", "ignore" if ignored else "un-ignore", num, exc
            )
