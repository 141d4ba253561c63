"""An in-memory mesh of sync engines for protocol tests: no radio, no threads, virtual time.

Every transmission takes ``airtime`` seconds and reaches the sender's neighbours (minus random loss)
with hop limit 0, i.e. radios that do not relay: only the engines move bulletins.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field

from relay.crypto.keys import Identity
from relay.sync.engine import SyncConfig, SyncEngine
from relay.sync.events import PacketReceived, SendPacket
from relay.sync.judge import MemoryJudge
from relay.trust import TrustState
from tests.sync.judging import JudgingEngine


@dataclass
class Net:
    edges: dict[int, set[int]]
    root: Identity
    loss: float = 0.0
    airtime: float = 0.5
    snr: float = -12.0  # every link is at the edge of range (neighbours are one hop apart)
    seed: int = 1
    config: SyncConfig = field(default_factory=SyncConfig)
    engines: dict[int, SyncEngine] = field(init=False)
    awake: dict[int, bool] = field(init=False)
    now: float = field(init=False, default=0.0)
    sent: Counter[str] = field(init=False, default_factory=Counter)
    _queue: list[tuple[float, int, int, bytes]] = field(init=False, default_factory=list)
    _seq: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.engines = {}
        for node in self.edges:
            state = TrustState()
            state.add_root(self.root.key_id, self.root.public_key, "root")
            self.engines[node] = JudgingEngine(
                MemoryJudge(state), self.config, seed=self.seed * 1000 + node, node=node
            )
        self.awake = dict.fromkeys(self.edges, True)

    def transmit(self, node: int, sends: list[SendPacket]) -> None:
        for send in sends:
            frame = send.payload[0]
            self.sent["data" if frame < 0x19 else f"sync{frame:x}"] += 1
            for neighbour in self.edges[node]:
                if self.rng.random() >= self.loss:
                    self._seq += 1
                    heapq.heappush(
                        self._queue, (self.now + self.airtime, self._seq, neighbour, send.payload)
                    )
                    self._senders[self._seq] = node

    _senders: dict[int, int] = field(init=False, default_factory=dict)

    def run(self, until: float) -> None:
        while True:
            deadlines = [
                (d, n)
                for n, e in self.engines.items()
                if self.awake[n] and (d := e.next_deadline()) is not None
            ]
            next_timer = min(deadlines, default=(float("inf"), -1))
            next_packet = self._queue[0][0] if self._queue else float("inf")
            moment = min(next_timer[0], next_packet)
            if moment > until:
                self.now = until
                return
            self.now = max(self.now, moment)
            if next_packet <= next_timer[0]:
                _, seq, node, payload = heapq.heappop(self._queue)
                sender = self._senders.pop(seq)
                if self.awake[node]:
                    event = PacketReceived(payload, sender, hops=0, snr=self.snr, hop_limit=0)
                    self.transmit(node, self.engines[node].hear(event, self.now))
            else:
                node = next_timer[1]
                self.transmit(node, self.engines[node].tick(self.now))

    def holders(self, ident: bytes) -> set[int]:
        return {n for n, e in self.engines.items() if e.holds(ident)}


def chain(n: int) -> dict[int, set[int]]:
    return {i: {j for j in (i - 1, i + 1) if 0 <= j < n} for i in range(n)}


def grid(side: int) -> dict[int, set[int]]:
    def idx(x: int, y: int) -> int:
        return x * side + y

    edges: dict[int, set[int]] = {}
    for x in range(side):
        for y in range(side):
            edges[idx(x, y)] = {
                idx(x + dx, y + dy)
                for dx in (-1, 0, 1)
                for dy in (-1, 0, 1)
                if (dx or dy) and 0 <= x + dx < side and 0 <= y + dy < side
            }
    return edges
