"""Which radios to ignore: the spam brake of the sync engine (sans-IO).

Jarshy never relays a forged or untrusted bulletin, but the radio's firmware floods every packet
it hears, spam included: a spammer's packets still eat everyone's airtime and duty cycle. The
firmware can be told to drop everything from one radio (``AdminMessage.set_ignored_node``: dropped
before flooding, so neither relayed nor delivered). This module decides when to ask for that.

A radio (by the node number the packets carry as ``from``) is quarantined when, within
``window`` seconds, it originated ``forged_limit`` frames proven bad on their own (a frame that
does not parse; a bulletin whose signature fails against a known key, or that is invalid), or
``untrusted_limit`` valid but untrusted bulletins while sending us nothing trusted.  Nothing else
counts: not a fragment that conflicts with another radio's, not a set of fragments that never
completed or did not match its id — those are evidence against no one.  Radios that brought us a
trusted bulletin in the last ``PROTECTED_FOR`` seconds are never quarantined: ``from`` is not
authenticated, and a forger must not be able to cut a newsroom's radio off by spoofing it.
Quarantine lasts ``duration`` seconds; the host lifts it.

A per-radio brake is escaped by rotating ``from``.  :class:`UntrustedBudget` is the brake that
cannot be: one budget, across all radios, of frames from radios without trusted history that came
to nothing (forged, invalid, malformed, untrusted).  Over budget, the engine drops such radios'
frames before any costly work (signature checks, text decoding, reassembly) unless they could be
a trusted safety alert; anti-entropy repairs what was dropped.
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

    def has_trusted_history(self, sender: int, now: float) -> bool:
        """True if ``sender`` originated a trusted bulletin in the last ``PROTECTED_FOR``."""
        return now - self._trusted_at.get(sender, -PROTECTED_FOR - 1.0) <= PROTECTED_FOR

    def ignored(self, sender: int, now: float) -> bool:
        """True while ``sender`` is quarantined by us."""
        return self._until.get(sender, -1.0) > now

    def _count(self, table: dict[int, deque[float]], sender: int, now: float, limit: int) -> None:
        if self.forged_limit <= 0 or sender == self.own_node or self.ignored(sender, now):
            return
        if self.has_trusted_history(sender, now):
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


@dataclass
class UntrustedBudget:
    """At most ``limit`` wasted judgements of untrusted radios' frames per ``window`` seconds,
    all radios together (0 disables the budget)."""

    limit: int
    window: float
    _spent: deque[float] = field(default_factory=deque)

    def spend(self, now: float) -> None:
        """A frame from a radio without trusted history came to nothing."""
        self._spent.append(now)
        self._forget(now)

    def over(self, now: float) -> bool:
        """True while the budget of this window is spent."""
        self._forget(now)
        return self.limit > 0 and len(self._spent) >= self.limit

    def _forget(self, now: float) -> None:
        spent = self._spent
        while spent and (now - spent[0] > self.window or len(spent) > max(self.limit, 1)):
            spent.popleft()


def _bound(table: dict[int, Any]) -> None:
    while len(table) > MAX_TRACKED:
        del table[next(iter(table))]
