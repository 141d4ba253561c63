"""A whole Jarshy node core as a simulator engine (``jarshy sim --engine jarshy``).

Every simulated Jarshy node runs the very :class:`~relay.node.core.NodeCore` the daemon runs —
ingest, trust, holding quotas, the sync engine, the spam brake — over its own in-memory SQLite
store, so what the simulator measures is what a daemon does.  All nodes trust one simulated
newsroom root; publishers sign real bulletins of the requested size with it.  A node named
``spam*`` (or with option ``spammer: true``) publishes bulletins signed by an untrusted key
instead, and every third one forged in the newsroom's name.

The simulator's registry learns the name ``"jarshy"`` when this module is imported (the
simulator sits below the node layer and does not import it): entry points that run scenarios
import it first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace

from relay.crypto.keys import Identity
from relay.node.core import BulletinHeld, NodeCore, Output, VerdictChanged
from relay.sim.engines import EngineContext, register_engine
from relay.store import Store
from relay.sync.engine import SyncConfig
from relay.sync.events import PacketReceived, SendPacket
from relay.wire import bulletin as wire
from relay.wire.bulletin import SIGNATURE_LEN, bulletin_id
from relay.wire.fields import Content, Kind, SafetyInfo
from relay.wire.fragments import carried_id, split

EPOCH = 1_767_225_600  # simulated time 0 = 2026-01-01T00:00:00Z
NEWSROOM = Identity("Simulated newsroom", hashlib.sha256(b"jarshy-sim:newsroom").digest())
SPAMMER = Identity("Spammer", hashlib.sha256(b"jarshy-sim:spammer").digest())
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 "
ALERT = SafetyInfo("flood", "met", "extreme", "immediate", "observed", "simulated district")


class JarshySimNode:
    """NodeCore + Publisher + DeliveryProbe + ItemTagger + IgnoreRequester for the simulator."""

    def __init__(self, ctx: EngineContext, config: SyncConfig | None = None) -> None:
        self.store = Store(":memory:")
        self.core = NodeCore(
            self.store, config or SyncConfig(), seed=ctx.rng.randrange(2**32), node=ctx.num
        )
        self.core.ingest.add_root(NEWSROOM.public_key, NEWSROOM.name, EPOCH)
        self.core.link_up(ctx.num, ctx.role)
        self.sync = self.core.engine
        self.rng = ctx.rng
        self.name = ctx.name
        self.spammer = bool(ctx.options.get("spammer")) or ctx.name.startswith("spam")
        self.published = 0
        self._delivered: list[bytes] = []
        self._counted: set[bytes] = set()
        self._ignores: list[tuple[int, float]] = []

    def _carry_out(self, output: Output) -> list[SendPacket]:
        """Keep what the simulator asks for later (held ids, ignores); return the sends."""
        self._ignores.extend(output.ignores)
        for notice in output.notices:
            if isinstance(notice, BulletinHeld | VerdictChanged):
                ident = notice.id
                if ident not in self._counted and self.sync.holds(ident):
                    self._counted.add(ident)
                    self._delivered.append(ident)
        return output.sends

    # MeshEngine
    def receive(self, event: PacketReceived, now: float) -> list[SendPacket]:
        return self._carry_out(self.core.receive(event, EPOCH + now))

    def tick(self, now: float) -> list[SendPacket]:
        return self._carry_out(self.core.tick(EPOCH + now))

    def next_deadline(self) -> float | None:
        deadline = self.core.next_deadline()
        return None if deadline is None else max(0.0, deadline - EPOCH)

    # Publisher
    def publish(
        self, size: int, now: float, hop_limit: int | None = None, kind: str = "news"
    ) -> tuple[bytes, list[SendPacket]]:
        self.published += 1
        created = int(EPOCH + now)
        author = SPAMMER if self.spammer else NEWSROOM
        raw = self._bulletin(author, size, created, safety=kind == "safety")
        ident = bulletin_id(raw[:-SIGNATURE_LEN])
        limit = self.sync.config.origin_hop_limit if hop_limit is None else hop_limit
        if self.spammer:
            return ident, [SendPacket(p, limit) for p in split(raw)]
        ident, output = self.core.publish(raw, EPOCH + now)
        sends = self._carry_out(output)
        return ident, [SendPacket(s.payload, limit, s.priority) for s in sends]

    def _bulletin(self, author: Identity, size: int, created: int, safety: bool = False) -> bytes:
        """A signed news bulletin (or extreme safety alert) of about ``size`` bytes on air."""
        length = max(1, size - 85)
        for _ in range(6):
            text = "".join(self.rng.choice(_ALPHABET) for _ in range(length)).strip() or "x"
            content = Content(Kind.NEWS, author.key_id, created, text, "en")
            if safety:
                content = replace(content, kind=Kind.SAFETY, lifetime=7200, safety=ALERT)
            if self.spammer and self.published % 3 == 0:  # forged in the newsroom's name
                content = Content(Kind.NEWS, NEWSROOM.key_id, created, text, "en")
                unsigned = wire.encode_unsigned(content)
                raw = unsigned + author.sign(wire.SIGNING_DOMAIN + unsigned)
            else:
                raw = wire.sign(content, author).raw
            if abs(len(raw) - size) <= 8 or len(raw) > 3000:
                return raw
            length = max(1, length + (size - len(raw)) * 8 // 5)
        return raw

    # IgnoreRequester
    def ignore_requests(self) -> Iterable[tuple[int, float]]:
        out, self._ignores = self._ignores, []
        return out

    # DeliveryProbe
    def delivered_items(self) -> Iterable[bytes]:
        out, self._delivered = self._delivered, []
        return out

    # ItemTagger
    def item_of(self, payload: bytes) -> bytes | None:
        return carried_id(payload)


def _factory(ctx: EngineContext) -> JarshySimNode:
    return JarshySimNode(ctx)


register_engine("jarshy", _factory)
