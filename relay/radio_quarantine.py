"""Carry out the sync engine's spam brake on the real radio (``set_ignored_node``, then lift it).

The decision is the engine's (relay.sync.quarantine); this module is the daemon-side edge that
turns it into admin messages on the event loop and lifts each quarantine when it expires.  The
firmware keeps its ignore list in flash, so the list is also kept in a small JSON file: a daemon
that restarts (or crashed) still lifts every quarantine it started, late if need be.

Quarantines end by the event loop's monotonic clock; the wall clock only labels them (status, the
file). A wall clock set back by days (GPS, a phone) must not keep a neighbour ignored in the
radio's flash: a saved end more than ``MAX_QUARANTINE`` ahead is believed to be at most that.
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
MAX_QUARANTINE = 24 * 3600.0  # no quarantine lasts longer, whatever a saved wall-clock end says


class RadioQuarantine:
    """Radios our radio ignores, with when each quarantine ends (Unix time)."""

    def __init__(
        self,
        link: Callable[[], RadioLink | None],
        path: Path | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._link = link
        self.path = path
        self._wall = wall
        self.until: dict[int, float] = self._load()  # wall-clock ends: for people and the file
        self._ends: dict[int, float] = {}  # monotonic ends (loop.time()): what lifts
        self._tasks: set[asyncio.Task[None]] = set()
        self._scheduled: set[int] = set()

    def link_up(self) -> None:
        """The radio is (again) reachable: lift what expired meanwhile, schedule the rest."""
        now, loop = self._wall(), asyncio.get_running_loop()
        for num, until in sorted(self.until.items()):
            left = self._ends[num] - loop.time() if num in self._ends else until - now
            left = min(left, MAX_QUARANTINE)
            if left <= 0:
                self._ends[num] = loop.time()
                self._lift(num)
            else:
                self._spawn(self._set(num, True))  # idempotent; a swapped radio learns it too
                self._ends.setdefault(num, loop.time() + left)
                if num not in self._scheduled:
                    self._scheduled.add(num)
                    loop.call_later(left, self._lift, num)

    def apply(self, requests: list[tuple[int, float]]) -> None:
        """Start the quarantines the engine asked for (call on the event loop)."""
        for num, seconds in requests:
            log.warning(
                "radio !%08x sent forged or untrusted bulletins at a spam rate: "
                "our radio ignores it for %d min",
                num,
                round(seconds / 60),
            )
            loop = asyncio.get_running_loop()
            self.until[num] = self._wall() + seconds
            self._ends[num] = loop.time() + seconds
            self._save()
            self._spawn(self._set(num, True))
            self._scheduled.add(num)
            loop.call_later(seconds, self._lift, num)

    def status(self) -> list[dict[str, object]]:
        """For ``jarshy status``: who is ignored, until when."""
        now = self._wall()
        try:
            loop_now = asyncio.get_running_loop().time()
        except RuntimeError:  # no loop: judge by the wall clock alone
            return [{"node": f"!{n:08x}", "until": round(u)} for n, u in sorted(self.until.items())]
        return [
            {"node": f"!{num:08x}", "until": round(until)}
            for num, until in sorted(self.until.items())
            if self._ends.get(num, loop_now + until - now) > loop_now
        ]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _lift(self, num: int) -> None:
        self._scheduled.discard(num)
        end = self._ends.get(num)
        if num in self.until and end is not None and end <= asyncio.get_running_loop().time() + 1:
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
                self._ends.pop(num, None)
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
