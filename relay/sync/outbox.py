"""What a node will transmit later: bulletin pushes (relays, answers), summaries and requests.

Jobs are keyed by (kind, tag): ``("push", id)``, ``("summary", before)``, ``("request", tag)``,
``("retry", tag)``.  A push is cancelled when enough copies of its bulletin are overheard first.
"""

from __future__ import annotations

from relay.sync.frames import PREFIX_LEN
from relay.sync.types import _Pending
from relay.wire.fragments import split

Key = tuple[str, bytes]


class Outbox:
    """Pending transmissions, each due at a time."""

    def __init__(self, urgent_priority: int, suppress_copies: int, repair: bool) -> None:
        self.urgent_priority = urgent_priority
        self.suppress_copies = suppress_copies
        self.repair = repair
        self.jobs: dict[Key, _Pending] = {}

    def __contains__(self, key: Key) -> bool:
        return key in self.jobs

    def push(self, ident: bytes, raw: bytes, priority: int, due: float, hop_limit: int) -> None:
        """Send bulletin ``raw`` at ``due`` (already pending: keep the wider hop limit)."""
        existing = self.jobs.get(("push", ident))
        if existing is not None:
            existing.hop_limit = max(existing.hop_limit, hop_limit)
            return
        packets = split(raw, repair=self.repair)
        self.jobs[("push", ident)] = _Pending(due, packets, priority, hop_limit, ident)

    def add(self, key: Key, job: _Pending) -> None:
        self.jobs[key] = job

    def pop(self, key: Key) -> _Pending | None:
        return self.jobs.pop(key, None)

    def requests(self) -> list[Key]:
        """Keys of the pending request (and its retry)."""
        return [k for k in self.jobs if k[0] in ("request", "retry")]

    def arrived(self, ident: bytes) -> None:
        """A bulletin came: no need to ask for it any more."""
        self.jobs.pop(("request", ident[:PREFIX_LEN]), None)
        self.jobs.pop(("retry", ident[:PREFIX_LEN]), None)

    def overheard(self, ident: bytes, near: bool) -> bool:
        """A true copy of a held bulletin was heard (``near``: from a close sender); True when
        it cancelled our pending push (urgent ones after one copy more, never by distance)."""
        self.arrived(ident)
        job = self.jobs.get(("push", ident))
        if job is None:
            return False
        job.heard += 1
        urgent = job.priority >= self.urgent_priority
        if (near and not urgent) or job.heard >= self.suppress_copies + urgent:
            del self.jobs[("push", ident)]
            return True
        return False

    def due(self, now: float) -> list[tuple[Key, _Pending]]:
        """Take the jobs due at ``now``, earliest first."""
        if not self.jobs:
            return []
        keys = sorted((k for k, p in self.jobs.items() if p.due <= now), key=self._due_of)
        return [(k, self.jobs.pop(k)) for k in keys]

    def _due_of(self, key: Key) -> float:
        return self.jobs[key].due

    def deadline(self) -> float | None:
        return min((job.due for job in self.jobs.values()), default=None)
