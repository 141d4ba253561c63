"""A sync engine with its host's judge beside it: tests feed frames and get sends back."""

from __future__ import annotations

from relay.sync.engine import Judge, SyncConfig, SyncEngine
from relay.sync.events import PacketReceived, SendPacket
from relay.sync.judge import receive_judged


class JudgingEngine(SyncEngine):
    """:meth:`hear` receives a frame and answers its candidate with ``judge`` at once."""

    def __init__(
        self, judge: Judge, config: SyncConfig | None = None, seed: int = 0, node: int = 0
    ) -> None:
        super().__init__(config, seed=seed, node=node)
        self.judge = judge

    def hear(self, event: PacketReceived, now: float) -> list[SendPacket]:
        return receive_judged(self, self.judge, event, now)
