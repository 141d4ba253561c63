"""Carry out the sync engine's spam brake on the real radio (``set_ignored_node``, then lift it).

The decision is the engine's (relay.sync.quarantine); this module is the daemon-side edge that
turns it into admin messages on the event loop and lifts each quarantine when it expires.  The
firmware keeps its ignore list in flash, so the list is also kept in a small JSON file: a daemon
that restarts (or crashed) still lifts every quarantine it started, late if need be.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from relay.radio.link import RadioLink
from relay.radio.linktypes import LinkDown

log = logging.getLogger(__name__)
RETRIES, RETRY_AFTER = 12, 5.0  # admin messages that fail are tried again for a minute


class RadioQuarantine:
    """Radios our radio ignores, with when each quarantine ends (Unix time)."""

    def __init__(self, link: Callable[[], RadioLink | None], path: Path | None = None) -> None:
        self._link = link
        self.path = path
        self.until: dict[int, float] = self._load()
        self._tasks: set[asyncio.Task[None]] = set()
        self._scheduled: set[int] = set()

    def link_up(self) -> None:
        """The radio is (again) reachable: lift what expired meanwhile, schedule the rest."""
        now = time.time()
        for num, until in sorted(self.until.items()):
            if until <= now:
                self._lift(num)
            else:
                self._spawn(self._set(num, True))  # idempotent; a swapped radio learns it too
                if num not in self._scheduled:
                    self._scheduled.add(num)
                    asyncio.get_running_loop().call_later(until - now, self._lift, num)

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
            self._save()
            self._spawn(self._set(num, True))
            self._scheduled.add(num)
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
        self._scheduled.discard(num)
        if num in self.until and self.until[num] <= time.time() + 1.0:
            self._spawn(self._set(num, False))

    def _load(self) -> dict[int, float]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {int(k): float(v) for k, v in data.items()}
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return {}

    def _save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps({str(k): v for k, v in self.until.items()}), "utf-8")
            tmp.replace(self.path)
        except OSError as exc:  # a full disk must not stop the brake; the radio still obeys
            log.warning("could not save %s: %s", self.path, exc)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _set(self, num: int, ignored: bool, attempt: int = 0) -> None:
        link = self._link()
        if link is None:
            return  # no radio yet: link_up() will see to it
        try:
            await link.set_ignored(num, ignored)
            if not ignored:  # lifted on the radio: forget it (else retried at the next link up)
                self.until.pop(num, None)
                self._save()
        except LinkDown as exc:
            what = "ignore" if ignored else "un-ignore"
            if attempt < RETRIES:  # e.g. the radio is up but has not told us who it is yet
                log.info("could not %s radio !%08x yet (%s): retrying", what, num, exc)
                asyncio.get_running_loop().call_later(
                    RETRY_AFTER, lambda: self._spawn(self._set(num, ignored, attempt + 1))
                )
            else:
                log.warning("could not %s radio !%08x: %s", what, num, exc)
