"""Engines the simulator can attach to nodes, the optional hooks it looks for, and a registry.

Any :class:`~relay.sync.events.MeshEngine` can be attached. Three optional hooks let the simulator
measure more:

* :class:`Publisher` — ``publish(size, now, hop_limit)`` turns scenario traffic into a new item at
  this node and returns the item's key (opaque bytes, e.g. a bulletin id) and the packets to send.
* :class:`DeliveryProbe` — ``delivered_items()`` returns the keys of items this engine came to
  hold since the previous call (returning every held key is also correct, only slower). The
  simulator polls it right after each call into the engine and records the first time per node.
* :class:`ItemTagger` — ``item_of(payload)`` names the item a payload carries, so transmissions
  and airtime can be attributed per item.

The registry :data:`ENGINES` maps a name (``--engine NAME``) to a factory taking an
:class:`EngineContext`; the sync engine registers itself as ``"jarshy"`` with
:func:`register_engine`.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from relay.sync.events import MeshEngine, PacketReceived, SendPacket


@runtime_checkable
class Publisher(Protocol):
    """An engine that can originate scenario traffic."""

    def publish(
        self, size: int, now: float, hop_limit: int | None = None, kind: str = "news"
    ) -> tuple[bytes, list[SendPacket]]:
        """Create an item of about ``size`` payload bytes; return its key and what to send."""
        ...


@runtime_checkable
class IgnoreRequester(Protocol):
    """An engine that asks its radio to ignore other radios (``set_ignored_node``)."""

    def ignore_requests(self) -> Iterable[tuple[int, float]]:
        """(node number, seconds) pairs asked for since the last call."""
        ...


@runtime_checkable
class DeliveryProbe(Protocol):
    """An engine that reports which items it holds."""

    def delivered_items(self) -> Iterable[bytes]:
        """Keys of items newly held since the last call (or all held keys)."""
        ...


@runtime_checkable
class ItemTagger(Protocol):
    """An engine that can tell which item a payload belongs to."""

    def item_of(self, payload: bytes) -> bytes | None:
        """The item key carried by ``payload``, or None for control traffic."""
        ...


@dataclass(frozen=True, slots=True)
class EngineContext:
    """What a factory learns about the node it builds an engine for."""

    index: int
    num: int  # Meshtastic node number
    name: str
    rng: random.Random  # seeded per node
    hop_limit: int  # the scenario's default hop limit
    options: Mapping[str, object] = field(default_factory=dict)
    role: str = "CLIENT"  # the radio's device role


EngineFactory = Callable[[EngineContext], MeshEngine]

_FLOOD_MAGIC = b"JF"
_KEY_LEN = 8


class FloodOnlyEngine:
    """Baseline: publish once and rely on the firmware's managed flooding alone; never re-send."""

    def __init__(self, num: int, hop_limit: int = 3) -> None:
        self.num = num
        self.hop_limit = hop_limit
        self.held: set[bytes] = set()
        self._new: list[bytes] = []
        self._seq = 0

    @classmethod
    def from_context(cls, ctx: EngineContext) -> FloodOnlyEngine:
        """Registry factory; option ``hop_limit`` overrides the scenario default."""
        hop = ctx.options.get("hop_limit", ctx.hop_limit)
        if not isinstance(hop, int):
            raise ValueError("engine option hop_limit must be an integer")
        return cls(ctx.num, hop)

    def publish(
        self, size: int, now: float, hop_limit: int | None = None, kind: str = "news"
    ) -> tuple[bytes, list[SendPacket]]:
        """A payload of ``size`` bytes: magic, 8-byte key (node, sequence), zero filler."""
        self._seq += 1
        key = struct.pack(">II", self.num & 0xFFFFFFFF, self._seq)
        payload = (_FLOOD_MAGIC + key).ljust(max(size, len(_FLOOD_MAGIC) + _KEY_LEN), b"\0")
        self._hold(key)
        hop = self.hop_limit if hop_limit is None else hop_limit
        return key, [SendPacket(payload, hop)]

    def item_of(self, payload: bytes) -> bytes | None:
        """The key inside a flood payload."""
        if payload[:2] == _FLOOD_MAGIC and len(payload) >= 2 + _KEY_LEN:
            return payload[2 : 2 + _KEY_LEN]
        return None

    def _hold(self, key: bytes) -> None:
        if key not in self.held:
            self.held.add(key)
            self._new.append(key)

    def receive(self, event: PacketReceived, now: float) -> list[SendPacket]:
        """Remember the item; a malformed payload is ignored."""
        key = self.item_of(event.payload)
        if key is not None:
            self._hold(key)
        return []

    def tick(self, now: float) -> list[SendPacket]:
        """No timers."""
        return []

    def next_deadline(self) -> float | None:
        """No timers."""
        return None

    def delivered_items(self) -> list[bytes]:
        """Keys held since the last call."""
        out, self._new = self._new, []
        return out


class OneShotPublisher:
    """Test engine: sends given payloads at given times and records what it hears.

    Its item keys are the payloads themselves.
    """

    def __init__(self, schedule: Sequence[tuple[float, bytes, int]] = ()) -> None:
        self.pending = sorted(schedule, key=lambda s: s[0])
        self.received: list[tuple[float, PacketReceived]] = []
        self._new: list[bytes] = []

    def receive(self, event: PacketReceived, now: float) -> list[SendPacket]:
        """Record the packet."""
        self.received.append((now, event))
        self._new.append(event.payload)
        return []

    def tick(self, now: float) -> list[SendPacket]:
        """Send everything that is due."""
        out: list[SendPacket] = []
        while self.pending and self.pending[0][0] <= now:
            _, payload, hop = self.pending.pop(0)
            out.append(SendPacket(payload, hop))
        return out

    def next_deadline(self) -> float | None:
        """Time of the next scheduled send."""
        return self.pending[0][0] if self.pending else None

    def delivered_items(self) -> list[bytes]:
        """Payloads heard since the last call."""
        out, self._new = self._new, []
        return out

    def item_of(self, payload: bytes) -> bytes | None:
        """Every payload is its own item."""
        return payload


def _silent(ctx: EngineContext) -> MeshEngine:
    return OneShotPublisher()


ENGINES: dict[str, EngineFactory] = {
    "flood": FloodOnlyEngine.from_context,
    "silent": _silent,
}
"""Engines selectable by name (``jarshy sim --engine NAME``)."""


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make an engine selectable by name (``relay.node.sim_node`` registers ``"jarshy"``)."""
    ENGINES[name] = factory


def get_engine_factory(name: str) -> EngineFactory:
    """The factory registered under ``name``."""
    if name not in ENGINES:
        hint = " (import relay.node.sim_node to register it)" if name == "jarshy" else ""
        raise KeyError(f"unknown engine {name!r}{hint}; known: {', '.join(sorted(ENGINES))}")
    return ENGINES[name]
