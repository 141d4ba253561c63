"""The discrete-event simulator: a heap of timed events over a virtual clock.

Transmissions are resolved when they end: every receiver that heard the signal above its
sensitivity decodes it unless it was asleep, was itself transmitting (half duplex), another
signal overlapped the packet's critical section (from the last 5 preamble symbols on) without
being at least 6 dB weaker (capture), or the scenario's random loss struck. Firmware rules live in
:mod:`relay.sim.firmware`; engines are driven exactly as the daemon drives them: ``receive`` for
each new packet on the Jarshy port, ``tick`` at ``next_deadline()``, ``SendPacket`` actions queued
as new packets from that node.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from relay.lora import MAX_APP_PAYLOAD, PREAMBLE_SYMBOLS, packet_airtime
from relay.sim.channel import CAPTURE_DB, Channel, Track
from relay.sim.engines import (
    DeliveryProbe,
    EngineContext,
    EngineFactory,
    ItemTagger,
    Publisher,
    get_engine_factory,
)
from relay.sim.firmware import (
    MAX_HOP_LIMIT,
    Node,
    Packet,
    Queued,
    RebroadcastMode,
    Role,
    late_window_delay,
    origin_delay,
    relay_delay,
)
from relay.sim.scenario import Publication, Scenario
from relay.sync.events import MeshEngine, PacketReceived, SendPacket

_TIMER, _TX_END, _ENGINE, _PUBLISH, _POWER = range(5)
_EPS = 1e-9
CAD_SYMBOLS = 2.5
"""A new signal is only sensed (channel activity detection) once it has been on air this long."""


class SimulationError(Exception):
    """The simulation cannot continue (e.g. an engine asks to be ticked forever at one instant)."""


@dataclass(slots=True)
class Counters:
    """Network-wide event counts."""

    transmissions: int = 0
    originals: int = 0
    relays: int = 0
    airtime: float = 0.0
    receptions: int = 0  # decoded packets, duplicates included
    duplicates: int = 0
    collisions: int = 0  # receptions lost to an overlapping signal
    half_duplex: int = 0  # lost because the receiver was transmitting
    random_loss: int = 0
    asleep: int = 0  # lost because the receiver had no power
    lbt_deferrals: int = 0  # channel busy when the transmit timer fired
    relay_cancelled: int = 0  # client dropped a queued relay after overhearing it
    queue_drops: int = 0
    duty_cycle_drops: int = 0
    oversize_drops: int = 0
    core_only_drops: int = 0  # ROUTER with rebroadcast_mode CORE_PORTNUMS_ONLY


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
class _Tx:
    sender: int
    packet: Packet
    start: float
    end: float
    receivers: list[tuple[int, float]]


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


class Simulation:
    """One run of a scenario with an engine attached to every node that runs Jarshy."""

    def __init__(
        self,
        scenario: Scenario,
        engine: str | EngineFactory | None = None,
        *,
        engines: Mapping[str, MeshEngine] | None = None,
        seed: int | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.rng = random.Random(f"sim:{self.seed}")
        self.preset = scenario.preset
        self.sens = scenario.preset.sensitivity_dbm
        self.noise = scenario.preset.noise_floor_dbm
        self.slot = scenario.preset.slot_time
        self.crit_offset = (PREAMBLE_SYMBOLS - 5) * scenario.preset.symbol_time
        self.cad_time = CAD_SYMBOLS * scenario.preset.symbol_time
        self.max_air = packet_airtime(MAX_APP_PAYLOAD, self.preset)
        self.duty = scenario.region.duty_cycle
        self.now = 0.0
        self.counters = Counters()
        self.items: dict[bytes, ItemRecord] = {}
        self.deliveries: dict[bytes, dict[int, float]] = {}
        self._heap: list[tuple[float, int, int, int, Any]] = []
        self._seq = 0
        self._pkt_id = 0
        self._qseq = 0
        self._txs: dict[int, _Tx] = {}
        self._airtimes: dict[int, float] = {}
        self._same_instant: tuple[int, float, int] = (-1, -1.0, 0)
        self.channel = Channel(
            [Track(n.waypoints) for n in scenario.nodes],
            [n.tx_dbm for n in scenario.nodes],
            [n.gain_db for n in scenario.nodes],
            scenario.preset,
            scenario.propagation,
            self.seed,
        )
        if isinstance(engine, str) or engine is None:
            self.engine_name = engine or scenario.engine
            factory = get_engine_factory(self.engine_name)
        else:
            self.engine_name = getattr(engine, "__name__", "custom")
            factory = engine
        overrides = dict(engines or {})
        self.nodes: list[Node] = []
        self._probe: list[DeliveryProbe | None] = []
        self._tagger: list[ItemTagger | None] = []
        self._deferred: list[list[Publication]] = []
        for spec in scenario.nodes:
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
                )
                eng = factory(ctx)
            self.nodes.append(Node(spec.index, spec.num, spec.name, spec.role, spec.mode, eng))
            self._probe.append(eng if isinstance(eng, DeliveryProbe) else None)
            self._tagger.append(eng if isinstance(eng, ItemTagger) else None)
            self._deferred.append([])
        if overrides:
            raise ValueError(f"engines given for unknown nodes: {sorted(overrides)}")
        for pub in scenario.traffic:
            if not isinstance(self.nodes[pub.node].engine, Publisher):
                raise SimulationError(
                    f"engine {self.engine_name!r} on node {self.nodes[pub.node].name} "
                    "cannot publish scenario traffic (no publish() method)"
                )
            self._push(pub.time, _PUBLISH, pub.node, pub)
        for spec in scenario.nodes:
            for off, on in spec.off:
                self._push(off, _POWER, spec.index, False)
                self._push(on, _POWER, spec.index, True)
        for node in self.nodes:
            if node.engine is not None:
                self._engine_sync(node)

    # -- event plumbing -------------------------------------------------------------------
    def _push(self, t: float, kind: int, a: int, b: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, a, b))

    def run(self, progress: Callable[[float], None] | None = None) -> SimResult:
        """Run to the scenario's end; ``progress`` is called with the fraction of time done."""
        end = self.scenario.duration
        heap, events = self._heap, 0
        while heap and heap[0][0] <= end:
            t, _, kind, a, b = heapq.heappop(heap)
            self.now = t
            if kind == _TX_END:
                self._tx_end(a)
            elif kind == _TIMER:
                self._timer(self.nodes[a], b)
            elif kind == _ENGINE:
                self._engine_event(self.nodes[a], b)
            elif kind == _PUBLISH:
                self._publish(self.nodes[a], b)
            else:
                self._power(self.nodes[a], b)
            events += 1
            if progress is not None and events % 20000 == 0:
                progress(min(t / end, 1.0))
        self.now = end
        if progress is not None:
            progress(1.0)
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
            self._push(deadline, _ENGINE, node.index, node.engine_gen)

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
        key, actions = engine.publish(pub.size, self.now, pub.hop_limit)
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

    # -- firmware: sending ----------------------------------------------------------------
    def _airtime(self, size: int) -> float:
        t = self._airtimes.get(size)
        if t is None:
            t = self._airtimes[size] = packet_airtime(size, self.preset)
        return t

    def _over_duty(self, node: Node) -> bool:
        return self.duty < 1.0 and node.hourly_tx_fraction(self.now) > self.duty

    def _originate(self, node: Node, action: SendPacket) -> None:
        if len(action.payload) > MAX_APP_PAYLOAD:
            self.counters.oversize_drops += 1
            return
        if not node.awake:
            return
        if self._over_duty(node):
            self.counters.duty_cycle_drops += 1
            return
        hop = max(0, min(MAX_HOP_LIMIT, action.hop_limit))
        self._pkt_id += 1
        tagger = self._tagger[node.index]
        item = tagger.item_of(action.payload) if tagger is not None else None
        pkt = Packet(
            node.index,
            self._pkt_id,
            hop,
            hop,
            bytes(action.payload),
            True,
            self._airtime(len(action.payload)),
            item,
        )
        node.remember((node.index, pkt.pkt_id))
        delay = origin_delay(node.channel_util_percent(self.now), self.slot, self.rng)
        self._enqueue(node, Queued(pkt, self.now + delay, action.priority, 0, False))

    def _enqueue(self, node: Node, entry: Queued) -> None:
        self._qseq += 1
        entry.seq = self._qseq
        if not node.enqueue(entry):
            self.counters.queue_drops += 1
            return
        self._arm(node)

    def _arm(self, node: Node) -> None:
        if not node.queue or not node.awake:
            return
        t = max(min(q.ready_at for q in node.queue), node.tx_end, self.now)
        if node.timer_at is None or t < node.timer_at - _EPS or node.timer_at < self.now:
            node.timer_gen += 1
            node.timer_at = t
            self._push(t, _TIMER, node.index, node.timer_gen)

    def _redelay(self, node: Node, q: Queued) -> float:
        if q.relay:
            return relay_delay(node.role, q.rx_snr, self.slot, self.rng)
        return origin_delay(node.channel_util_percent(self.now), self.slot, self.rng)

    def _timer(self, node: Node, gen: int) -> None:
        if gen != node.timer_gen or not node.awake:
            return
        node.timer_at = None
        now = self.now
        ready = [q for q in node.queue if q.ready_at <= now + _EPS]
        if not ready or now < node.tx_end - _EPS:
            self._arm(node)
            return
        pick = max(ready, key=lambda q: (q.priority, -q.seq))
        if node.sensing > 0 and self._channel_active(node):  # busy: back off, try again
            self.counters.lbt_deferrals += 1
            pick.ready_at = now + self._redelay(node, pick)
            self._arm(node)
            return
        node.queue.remove(pick)
        self._transmit(node, pick.packet)

    def _channel_active(self, node: Node) -> bool:
        """Carrier sense: a decodable signal whose preamble has been on air for a CAD window."""
        now, sens, seen = self.now, self.sens, self.now - self.cad_time
        return any(h[0] <= seen and h[1] > now and h[2] >= sens for h in node.heard)

    def _transmit(self, node: Node, pkt: Packet) -> None:
        now, air = self.now, pkt.airtime
        end = now + air
        node.log_tx(now, air)
        c = self.counters
        c.transmissions += 1
        c.airtime += air
        if pkt.hop_limit == pkt.hop_start and pkt.origin == node.index:
            c.originals += 1
        else:
            c.relays += 1
        if pkt.item is not None and pkt.item in self.items:
            rec = self.items[pkt.item]
            rec.transmissions += 1
            rec.airtime += air
        receivers = self.channel.links_from(node.index, now)
        self._seq += 1
        txid = self._seq
        sens = self.sens
        nodes = self.nodes
        for j, p in receivers:
            rn = nodes[j]
            rn.heard.append((now, end, p, txid))
            if p >= sens:
                rn.sensing += 1
                if rn.awake:
                    rn.add_busy(now, air)
        self._txs[txid] = _Tx(node.index, pkt, now, end, receivers)
        heapq.heappush(self._heap, (end, txid, _TX_END, txid, None))

    # -- firmware: receiving --------------------------------------------------------------
    def _tx_end(self, txid: int) -> None:
        tx = self._txs.pop(txid)
        now, start, end = self.now, tx.start, tx.end
        sender = self.nodes[tx.sender]
        for q in sender.queue:  # the firmware re-arms its transmit timer after each packet
            if q.ready_at <= now:
                q.ready_at = now + self._redelay(sender, q)
        self._arm(sender)
        crit = start + self.crit_offset
        sens, loss, c = self.sens, self.scenario.loss, self.counters
        horizon = now - self.max_air
        for j, p in tx.receivers:
            rn = self.nodes[j]
            heard = rn.heard
            if len(heard) > 6:
                rn.heard = heard = [h for h in heard if h[1] > horizon]
            if p < sens:
                continue
            rn.sensing -= 1
            if not rn.awake or rn.awake_since > start:
                c.asleep += 1
                continue
            if rn.transmitted_during(start, end):
                c.half_duplex += 1
                continue
            limit = p - CAPTURE_DB
            if any(h[3] != txid and h[1] > crit and h[0] < end and h[2] > limit for h in heard):
                c.collisions += 1
                continue
            if loss > 0.0 and self.rng.random() < loss:
                c.random_loss += 1
                continue
            self._receive(rn, tx.packet, p)

    def _receive(self, node: Node, pkt: Packet, rssi: float) -> None:
        c = self.counters
        c.receptions += 1
        if pkt.origin == node.index:
            return
        snr = rssi - self.noise
        if node.remember((pkt.origin, pkt.pkt_id)):
            c.duplicates += 1
            queued = node.find_queued(pkt.origin, pkt.pkt_id)
            if queued is not None:
                if node.role.cancels_on_overhear:
                    node.queue.remove(queued)
                    c.relay_cancelled += 1
                elif node.role is Role.ROUTER_LATE:
                    late = self.now + late_window_delay(queued.rx_snr, self.slot, self.rng)
                    queued.ready_at = max(queued.ready_at, late)
            return
        if pkt.jarshy and node.mode is RebroadcastMode.CORE_PORTNUMS_ONLY:
            c.core_only_drops += 1
            return
        if node.engine is not None and pkt.jarshy:
            event = PacketReceived(
                pkt.payload,
                self.nodes[pkt.origin].num,
                pkt.hop_start - pkt.hop_limit,
                round(snr, 2),
                round(rssi),
            )
            self._after_engine(node, node.engine.receive(event, self.now))
        if pkt.hop_limit <= 0 or not node.role.relays or node.mode is RebroadcastMode.NONE:
            return
        if self._over_duty(node):
            c.duty_cycle_drops += 1
            return
        relay = Packet(
            pkt.origin,
            pkt.pkt_id,
            pkt.hop_limit - 1,
            pkt.hop_start,
            pkt.payload,
            pkt.jarshy,
            pkt.airtime,
            pkt.item,
        )
        delay = relay_delay(node.role, snr, self.slot, self.rng)
        self._enqueue(node, Queued(relay, self.now + delay, 0, 0, True, snr))
