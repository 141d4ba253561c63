"""The bridge's incoming queue: bounded, and fair between publishers.

aiomqtt puts every incoming message in one queue. A plain bounded queue drops the newest message
when full, so one client flooding the broker would crowd out a trusted gateway's alert. This one
keeps a queue per publisher (the topic's gateway level), serves them in turn, and when the bound
is reached lets the oldest message of the longest queue go: a flood only ever costs its sender.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from typing import Any

DEFAULT_BOUND = 1000


def publisher_of(topic: str) -> str:
    """The topic level that names a publisher: ``jarshy/<net>/g/<gateway>/...``, else the last
    level (Meshtastic's ``<root>/2/e/<channel>/!<radio>``: the uplinking radio)."""
    levels = topic.split("/", 5)
    if len(levels) > 4 and levels[0] == "jarshy" and levels[2] == "g":
        return levels[3][:64]
    return topic.rsplit("/", 1)[-1][:64]


class _Lanes:
    """One FIFO per publisher, served round-robin; ``len`` is the total."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self.lanes: OrderedDict[str, deque[Any]] = OrderedDict()
        self.size = 0
        self.evicted = 0

    def __len__(self) -> int:
        return self.size

    def append(self, item: Any) -> None:
        if self.size >= self.bound:
            longest = max(self.lanes, key=lambda name: len(self.lanes[name]))
            lane = self.lanes[longest]
            lane.popleft()
            self.size -= 1
            self.evicted += 1
            if not lane:
                del self.lanes[longest]
        name = publisher_of(str(getattr(item, "topic", "")))
        self.lanes.setdefault(name, deque()).append(item)
        self.size += 1

    def popleft(self) -> Any:
        name, lane = next(iter(self.lanes.items()))
        item = lane.popleft()
        self.size -= 1
        del self.lanes[name]
        if lane:
            self.lanes[name] = lane  # to the back of the round
        return item


class FairQueue(asyncio.Queue[Any]):
    """An asyncio queue over :class:`_Lanes` (aiomqtt's ``queue_type``)."""

    def __init__(self, maxsize: int = 0) -> None:
        self._bound = maxsize if maxsize > 0 else DEFAULT_BOUND
        super().__init__(0)  # never "full": the lanes make room themselves

    def _init(self, maxsize: int) -> None:
        self._queue = _Lanes(self._bound)

    def _put(self, item: Any) -> None:
        self._queue.append(item)

    def _get(self) -> Any:
        return self._queue.popleft()

    @property
    def evicted(self) -> int:
        """Messages let go to make room (all from the longest lane at the time)."""
        return int(self._queue.evicted)
