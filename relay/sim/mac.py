"""The firmware half of the simulator: transmit queues, carrier sense, collisions, flooding.

:class:`Mesh` holds the radios, the channel and the event heap. A transmission is resolved when
it ends: every receiver that heard the signal above its sensitivity decodes it unless it was
asleep, was itself transmitting (half duplex), another signal overlapped the packet's critical
section (from the last 5 preamble symbols on) without being at least 6 dB weaker (capture), or the
scenario's random loss struck. Relay rules live in :mod:`relay.sim.firmware`. The subclass
:class:`relay.sim.core.Simulation` adds engines, traffic and power cuts through ``_deliver``.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import Any

from relay.lora import MAX_APP_PAYLOAD, PREAMBLE_SYMBOLS, firmware_tuple, packet_airtime
from relay.sim.channel import CAPTURE_DB, Channel, Track
from relay.sim.engines import ItemTagger
from relay.sim.firmware import (
    MAX_HOP_LIMIT,
    Node,
    Packet,
    Queued,
    Role,
    late_window_delay,
    origin_delay,
    relay_delay,
)
from relay.sim.meshrules import receive_verdict
from relay.sim.scenario import Scenario
from relay.sync.events import SendPacket

TIMER, TX_END, ENGINE, PUBLISH, POWER, INJECT = range(6)
JARSHY_PORT = 330  # a private port (>= 256): not one CORE_PORTNUMS_ONLY keeps
TEXT_PORT = 1  # what stock traffic would be
_EPS = 1e-9
CAD_SYMBOLS = 2.5
"""A new signal is only sensed (channel activity detection) once it has been on air this long."""


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
    opaque_relays: int = 0  # relays of a packet the relaying node could not decrypt
    opaque_drops: int = 0  # packets a node could not decrypt and its mode does not relay
    ignored_drops: int = 0  # from a radio this node was told to ignore (set_ignored_node)


@dataclass(slots=True)
class _Tx:
    sender: int
    packet: Packet
    start: float
    end: float
    receivers: list[tuple[int, float]]


class Mesh:
    """Simulated Meshtastic radios on one channel, driven by a heap of timed events."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.rng = random.Random(f"sim:{seed}")
        self.preset = scenario.preset
        self.sens = scenario.preset.sensitivity_dbm
        self.noise = scenario.preset.noise_floor_dbm
        self.slot = scenario.preset.slot_time
        self.crit_offset = (PREAMBLE_SYMBOLS - 5) * scenario.preset.symbol_time
        self.cad_time = CAD_SYMBOLS * scenario.preset.symbol_time
        self.max_air = packet_airtime(MAX_APP_PAYLOAD, self.preset, firmware=scenario.firmware)
        self.duty = scenario.region.duty_cycle
        self.now = 0.0
        self.counters = Counters()
        self.item_tx: dict[bytes, list[float]] = {}  # item -> [transmissions, airtime]
        self._heap: list[tuple[float, int, int, int, Any]] = []
        self._seq = 0
        self._pkt_id = 0
        self._qseq = 0
        self._txs: dict[int, _Tx] = {}
        self._airtimes: dict[int, float] = {}
        self.channel = Channel(
            [Track(n.waypoints) for n in scenario.nodes],
            [n.tx_dbm for n in scenario.nodes],
            [n.gain_db for n in scenario.nodes],
            scenario.preset,
            scenario.propagation,
            seed,
        )
        self.nodes: list[Node] = [
            Node(s.index, s.num, s.name, s.role, s.mode) for s in scenario.nodes
        ]
        for spec, node in zip(scenario.nodes, self.nodes, strict=True):
            # the channel plan (scenario.CHANNEL_PLANS): who holds the key, who shares the slot
            node.has_key = spec.jarshy or scenario.channel_plan == "shared"
            node.slot = 1 if spec.jarshy and scenario.channel_plan == "isolated" else 0
        self.firmware = firmware_tuple(scenario.firmware)
        self._slots = len({n.slot for n in self.nodes}) > 1  # some radios on another frequency
        self._tagger: list[ItemTagger | None] = [None] * len(self.nodes)

    def _push(self, t: float, kind: int, a: int, b: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, a, b))

    def _deliver(self, node: Node, pkt: Packet, snr: float, rssi: float) -> None:
        """A new packet on the Jarshy port reached ``node``'s host (overridden by Simulation)."""

    def transmit_at(self, name: str, payload: bytes, hop_limit: int, at: float) -> None:
        """Test hook: put a packet from node ``name`` on air at exactly ``at`` seconds.

        It bypasses the transmit queue, contention delay and carrier sense (as two radios that
        start in the same instant would), but is otherwise an ordinary original packet.
        """
        self._push(at, INJECT, self.scenario.node_index(name), (bytes(payload), hop_limit))

    def _inject(self, node: Node, what: tuple[bytes, int]) -> None:
        payload, hop = what
        self._pkt_id += 1
        tagger = self._tagger[node.index]
        item = tagger.item_of(payload) if tagger is not None else None
        air = self._airtime(len(payload))
        pkt = Packet(node.index, self._pkt_id, hop, hop, payload, True, air, item)
        node.remember((node.index, pkt.pkt_id))
        self._transmit(node, pkt)

    # -- firmware: sending ----------------------------------------------------------------
    def _airtime(self, size: int) -> float:
        t = self._airtimes.get(size)
        if t is None:
            t = self._airtimes[size] = packet_airtime(
                size, self.preset, firmware=self.scenario.firmware
            )
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
            self._push(t, TIMER, node.index, node.timer_gen)

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
        if pkt.item is not None:
            used = self.item_tx.setdefault(pkt.item, [0.0, 0.0])
            used[0] += 1
            used[1] += air
        receivers = self.channel.links_from(node.index, now)
        self._seq += 1
        txid = self._seq
        sens = self.sens
        nodes = self.nodes
        if self._slots:  # another frequency: neither heard nor interfering
            receivers = [(j, p) for j, p in receivers if nodes[j].slot == node.slot]
        for j, p in receivers:
            rn = nodes[j]
            rn.heard.append((now, end, p, txid))
            if p >= sens:
                rn.sensing += 1
                if rn.awake:
                    rn.add_busy(now, air)
        self._txs[txid] = _Tx(node.index, pkt, now, end, receivers)
        heapq.heappush(self._heap, (end, txid, TX_END, txid, None))

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
            if rn.tx_end > start and rn.transmitted_during(start, end):
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
        if node.ignored and node.ignored.get(pkt.origin, -1.0) > self.now:
            c.ignored_drops += 1  # the firmware drops it before flooding: not relayed either
            return
        snr = rssi - self.noise
        if node.remember((pkt.origin, pkt.pkt_id)):
            c.duplicates += 1
            queued = node.find_queued(pkt.origin, pkt.pkt_id)
            if queued is not None:
                if node.role.cancels_on_overhear:
                    node.queue.remove(queued)
                    c.relay_cancelled += 1
                elif node.role is Role.ROUTER_LATE and not queued.late:
                    # RadioLibInterface::clampToLateRebroadcastWindow: once, to now + worst
                    queued.ready_at = self.now + late_window_delay(queued.rx_snr, self.slot)
                    queued.late = True
            return
        decodable = node.has_key or not pkt.jarshy
        verdict = receive_verdict(
            node.mode,
            decodable=decodable,
            port=JARSHY_PORT if pkt.jarshy else TEXT_PORT,
            sender_known=True,
            firmware=self.firmware,
        )
        if decodable and not verdict.deliver:
            c.core_only_drops += 1  # the ROUTER trap: a non-core port it can read
            return
        if not decodable and not verdict.relay:
            c.opaque_drops += 1
            return
        if pkt.jarshy and verdict.deliver:
            self._deliver(node, pkt, snr, rssi)
        if pkt.hop_limit <= 0 or not node.role.relays or not verdict.relay:
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
        if not decodable:
            c.opaque_relays += 1
        delay = relay_delay(node.role, snr, self.slot, self.rng)
        self._enqueue(node, Queued(relay, self.now + delay, 0, 0, True, snr))
