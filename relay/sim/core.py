"""The simulator's driver: engines, scenario traffic, power cuts and the event loop.

Engines are driven exactly as the daemon drives them: ``receive`` for each new packet on the
Jarshy port, ``tick`` at ``next_deadline()``, ``SendPacket`` actions queued as new packets from
that node. The radio side lives in :mod:`relay.sim.mac`.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from relay.sim.channel import Channel
from relay.sim.engines import (
    DeliveryProbe,
    EngineContext,
    EngineFactory,
    IgnoreRequester,
    ItemTagger,
    Publisher,
    get_engine_factory,
)
from relay.sim.firmware import Node, Packet
from relay.sim.mac import ENGINE, INJECT, POWER, PUBLISH, TIMER, TX_END, Counters, Mesh
from relay.sim.scenario import Publication, Scenario
from relay.sync.events import MeshEngine, PacketReceived, SendPacket


class SimulationError(Exception):
    """The simulation cannot continue (e.g. an engine asks to be ticked forever at one instant)."""


@dataclass(slots=True)
class ItemRecord:
    """One published item and what carrying it cost."""

    key: bytes
    origin: int
    time: float
    size: int
    label: str
    transmissions: int = 0
    airtime: float = 0.0


@dataclass(slots=True)
class SimResult:
    """Everything a report needs after a run."""

    scenario: Scenario
    engine: str
    counters: Counters
    items: dict[bytes, ItemRecord]
    deliveries: dict[bytes, dict[int, float]]  # item -> node index -> first time held
    nodes: list[Node]
    channel: Channel
    end_time: float
    extra: dict[str, Any] = field(default_factory=dict)


class Simulation(Mesh):
    """One run of a scenario with an engine attached to every node that runs Jarshy."""

    def __init__(
        self,
        scenario: Scenario,
        engine: str | EngineFactory | None = None,
        *,
        engines: Mapping[str, MeshEngine] | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(scenario, scenario.seed if seed is None else seed)
        self.items: dict[bytes, ItemRecord] = {}
        self.deliveries: dict[bytes, dict[int, float]] = {}
        self._same_instant: tuple[int, float, int] = (-1, -1.0, 0)
        if isinstance(engine, str) or engine is None:
            self.engine_name = engine or scenario.engine
            factory = get_engine_factory(self.engine_name)
        else:
            self.engine_name = getattr(engine, "__name__", "custom")
            factory = engine
        overrides = dict(engines or {})
        self._probe: list[DeliveryProbe | None] = []
        self._ignorer: list[IgnoreRequester | None] = []
        self._index_by_num = {spec.num: spec.index for spec in scenario.nodes}
        self._deferred: list[list[Publication]] = []
        for spec, node in zip(scenario.nodes, self.nodes, strict=True):
            eng: MeshEngine | None = None
            if spec.name in overrides:
                eng = overrides.pop(spec.name)
            elif spec.jarshy:
                ctx = EngineContext(
                    spec.index,
                    spec.num,
                    spec.name,
                    random.Random(f"engine:{self.seed}:{spec.index}"),
                    scenario.hop_limit,
                    scenario.engine_options,
                    spec.role.value,
                )
                eng = factory(ctx)
            node.engine = eng
            self._probe.append(eng if isinstance(eng, DeliveryProbe) else None)
            self._ignorer.append(eng if isinstance(eng, IgnoreRequester) else None)
            self._tagger[spec.index] = eng if isinstance(eng, ItemTagger) else None
            self._deferred.append([])
        if overrides:
            raise ValueError(f"engines given for unknown nodes: {sorted(overrides)}")
        for pub in scenario.traffic:
            if not isinstance(self.nodes[pub.node].engine, Publisher):
                raise SimulationError(
                    f"engine {self.engine_name!r} on node {self.nodes[pub.node].name} "
                    "cannot publish scenario traffic (no publish() method)"
                )
            self._push(pub.time, PUBLISH, pub.node, pub)
        for spec in scenario.nodes:
            for off, on in spec.off:
                self._push(off, POWER, spec.index, False)
                self._push(on, POWER, spec.index, True)
        for node in self.nodes:
            if node.engine is not None:
                self._engine_sync(node)

    def run(self, progress: Callable[[float], None] | None = None) -> SimResult:
        """Run to the scenario's end; ``progress`` is called with the fraction of time done."""
        end = self.scenario.duration + self.scenario.drain
        heap, events = self._heap, 0
        while heap and heap[0][0] <= end:
            t, _, kind, a, b = heapq.heappop(heap)
            self.now = t
            if kind == TX_END:
                self._tx_end(a)
            elif kind == TIMER:
                self._timer(self.nodes[a], b)
            elif kind == ENGINE:
                self._engine_event(self.nodes[a], b)
            elif kind == PUBLISH:
                self._publish(self.nodes[a], b)
            elif kind == INJECT:
                self._inject(self.nodes[a], b)
            else:
                self._power(self.nodes[a], b)
            events += 1
            if progress is not None and events % 20000 == 0:
                progress(min(t / end, 1.0))
        self.now = end
        if progress is not None:
            progress(1.0)
        for key, (count, air) in self.item_tx.items():
            if key in self.items:
                self.items[key].transmissions = int(count)
                self.items[key].airtime = air
        return SimResult(
            self.scenario,
            self.engine_name,
            self.counters,
            self.items,
            self.deliveries,
            self.nodes,
            self.channel,
            end,
            {"events": events, "seed": self.seed},
        )

    # -- engines --------------------------------------------------------------------------
    def _after_engine(self, node: Node, actions: Iterable[SendPacket]) -> None:
        for action in actions:
            self._originate(node, action)
        probe = self._probe[node.index]
        if probe is not None:
            for key in probe.delivered_items():
                held = self.deliveries.setdefault(bytes(key), {})
                if node.index not in held:
                    held[node.index] = self.now
        ignorer = self._ignorer[node.index]
        if ignorer is not None:
            for num, seconds in ignorer.ignore_requests():
                other = self._index_by_num.get(num)
                if other is not None:
                    node.ignored[other] = self.now + seconds
        self._engine_sync(node)

    def _engine_sync(self, node: Node) -> None:
        assert node.engine is not None
        deadline = node.engine.next_deadline()
        if deadline is None:
            node.engine_at = None
            return
        deadline = max(deadline, self.now)
        if node.engine_at != deadline:
            node.engine_gen += 1
            node.engine_at = deadline
            self._push(deadline, ENGINE, node.index, node.engine_gen)

    def _engine_event(self, node: Node, gen: int) -> None:
        if gen != node.engine_gen or node.engine is None:
            return
        node.engine_at = None
        if not node.awake:
            return  # re-armed on wake
        who, when, count = self._same_instant
        count = count + 1 if (who, when) == (node.index, self.now) else 1
        if count > 10000:
            raise SimulationError(f"engine on {node.name} keeps asking for tick at t={self.now}")
        self._same_instant = (node.index, self.now, count)
        self._after_engine(node, node.engine.tick(self.now))

    def _publish(self, node: Node, pub: Publication) -> None:
        if not node.awake:
            self._deferred[node.index].append(pub)
            return
        engine = node.engine
        assert isinstance(engine, Publisher)
        key, actions = engine.publish(pub.size, self.now, pub.hop_limit, pub.kind)
        self.items[key] = ItemRecord(key, node.index, self.now, pub.size, pub.label)
        self._after_engine(node, actions)

    def _power(self, node: Node, on: bool) -> None:
        if not on:
            node.power_cut()
            return
        if node.awake:
            return
        node.awake = True
        node.awake_since = self.now
        pending, self._deferred[node.index] = self._deferred[node.index], []
        for pub in pending:
            self._publish(node, pub)
        if node.engine is not None:
            node.engine_at = None
            self._engine_sync(node)

    def _deliver(self, node: Node, pkt: Packet, snr: float, rssi: float) -> None:
        if node.engine is None:
            return
        event = PacketReceived(
            pkt.payload,
            self.nodes[pkt.origin].num,
            pkt.hop_start - pkt.hop_limit,
            round(snr, 2),
            round(rssi),
            hop_limit=pkt.hop_limit,
        )
        self._after_engine(node, node.engine.receive(event, self.now))
