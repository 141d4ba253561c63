"""Which radios to ignore: the spam brake of the sync engine (sans-IO).

Jarshy never relays a forged or untrusted bulletin, but the radio's firmware floods every packet
it hears, spam included: a spammer's packets still eat everyone's airtime and duty cycle. The
firmware can be told to drop everything from one radio (``AdminMessage.set_ignored_node``: dropped
before flooding, so neither relayed nor delivered). This module decides when to ask for that.

A radio (by the node number the packets carry as ``from``) is quarantined when, within
``window`` seconds, it originated ``forged_limit`` bulletins our judge found forged or invalid, or
``untrusted_limit`` valid but untrusted ones while sending us nothing trusted. Radios that brought
us a trusted bulletin in the last ``PROTECTED_FOR`` seconds are never quarantined: ``from`` is
not authenticated, and a forger must not be able to cut a newsroom's radio off by spoofing it.
Quarantine lasts ``duration`` seconds; the host lifts it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

PROTECTED_FOR = 24 * 3600.0
MAX_TRACKED = 4096  # radios remembered at once (oldest forgotten first)


@dataclass
class Quarantine:
    """Counts refusals per originating radio; produces (node, seconds) ignore requests."""

    forged_limit: int
    untrusted_limit: int
    window: float
    duration: float
    own_node: int = 0
    requests: list[tuple[int, float]] = field(default_factory=list)  # drained by the host
    _forged: dict[int, deque[float]] = field(default_factory=dict)
    _untrusted: dict[int, deque[float]] = field(default_factory=dict)
    _trusted_at: dict[int, float] = field(default_factory=dict)
    _until: dict[int, float] = field(default_factory=dict)

    def trusted(self, sender: int, now: float) -> None:
        """``sender`` originated a bulletin we trust: it is protected for a day."""
        self._trusted_at[sender] = now
        self._untrusted.pop(sender, None)
        _bound(self._trusted_at)

    def forged(self, sender: int, now: float) -> None:
        """``sender`` originated a forged, invalid or malformed bulletin."""
        self._count(self._forged, sender, now, self.forged_limit)

    def untrusted(self, sender: int, now: float) -> None:
        """``sender`` originated a valid bulletin we do not trust."""
        self._count(self._untrusted, sender, now, self.untrusted_limit)

    def ignored(self, sender: int, now: float) -> bool:
        """True while ``sender`` is quarantined by us."""
        return self._until.get(sender, -1.0) > now

    def _count(self, table: dict[int, deque[float]], sender: int, now: float, limit: int) -> None:
        if self.forged_limit <= 0 or sender == self.own_node or self.ignored(sender, now):
            return
        if now - self._trusted_at.get(sender, -PROTECTED_FOR - 1.0) <= PROTECTED_FOR:
            return
        times = table.setdefault(sender, deque())
        times.append(now)
        while times and now - times[0] > self.window:
            times.popleft()
        _bound(table)
        if len(times) >= limit:
            self._forged.pop(sender, None)
            self._untrusted.pop(sender, None)
            self._until[sender] = now + self.duration
            _bound(self._until)
            self.requests.append((sender, self.duration))


def _bound(table: dict[int, Any]) -> None:
    while len(table) > MAX_TRACKED:
        del table[next(iter(table))]
