"""How an emulated radio handles what it hears: Router::handleReceived and the flooding relay.

A mixin of :class:`relay.radio.emulator.EmulatedRadio`. The rules, from the firmware source:
an ignored sender is dropped (``Router::perhapsHandleReceived``); our own packet heard back is
the implicit ACK (``ReliableRouter::shouldFilterReceived``); a duplicate cancels a client's
queued relay, while ROUTER/ROUTER_LATE never cancel and ROUTER_LATE moves its copy once behind
every client (FloodingRouter.cpp ``perhapsCancelDupe``, RadioLibInterface.cpp
``clampToLateRebroadcastWindow``); a new packet is decoded with the radio's channels
(``perhapsDecode``) and judged by the rebroadcast mode
(:func:`relay.sim.meshrules.receive_verdict`); relays wait ``getTxDelayMsecWeighted``
(RadioInterface.cpp); a decoded packet for us reaches the client, a telemetry request is
answered and a ``want_ack`` packet to us is ACKed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meshtastic.protobuf import mesh_pb2, portnums_pb2

from relay.lora import DEFAULT_PRESET, PRESETS, firmware_tuple
from relay.radio import emu_phone
from relay.radio.emu_air import AirChannel, from_air
from relay.radio.emu_txqueue import fix_priority
from relay.sim.firmware import Role, late_window_delay, relay_delay
from relay.sim.meshrules import Mode, receive_verdict

if TYPE_CHECKING:
    import random

    from relay.radio.emu_reliable import ReliableSender
    from relay.radio.medium import Medium
    from relay.radio.state import RadioState

BROADCAST = 0xFFFFFFFF
SEEN_RING = 300
Routing = mesh_pb2.Routing


@dataclass
class Relay:
    """A relay waiting in the transmit queue."""

    cancel: Callable[[], None]
    fire: Callable[[], None]
    snr: float
    late: bool = False


class AirReceiver:
    """The receive side; the radio provides the attributes declared here."""

    state: RadioState
    medium: Medium | None
    reliable: ReliableSender
    ignored_drops: int
    opaque_relays: int
    _lock: threading.RLock
    _rng: random.Random
    _seen: OrderedDict[tuple[int, int], Relay | None]

    @property
    def node_num(self) -> int:
        raise NotImplementedError

    @property
    def firmware_version(self) -> str:
        raise NotImplementedError

    @property
    def modem_preset(self) -> str:
        raise NotImplementedError

    def channels(self) -> list[AirChannel]:
        raise NotImplementedError

    def to_phone(self, packet: Any, session: Any = None) -> None:
        raise NotImplementedError

    def next_id(self) -> int:
        raise NotImplementedError

    @property
    def _radio(self) -> Any:
        """This object as the whole radio (the mixin is only ever part of one)."""
        return self

    def _originate(self, packet: Any, channel_index: int = 0) -> None:
        raise NotImplementedError

    # Packets from the air.
    def _remember(self, key: tuple[int, int], queued: Relay | None) -> None:
        self._seen[key] = queued
        while len(self._seen) > SEEN_RING:
            self._seen.popitem(last=False)

    def receive_from_air(self, packet: Any, snr: float, rssi: int) -> None:
        """Medium callback: a packet was heard (Router::handleReceived and its filters)."""
        sender = getattr(packet, "from")
        key = (sender, packet.id)
        role = self.state.enum_name("device", "role")
        if sender in self.state.ignored:
            self.ignored_drops += 1  # Router::perhapsHandleReceived: neither relayed nor delivered
            return
        if sender == self.node_num:
            self.reliable.acknowledged(packet.id)  # someone rebroadcast ours: the implicit ACK
            return
        with self._lock:
            if key in self._seen:
                self._duplicate(key, role)
                return
            self._remember(key, None)
        found = from_air(packet, self.channels())
        with self.state.lock:
            seen = self.state.nodes.get(sender)
            known = seen is not None and seen.user is not None
            mode = Mode(self.state.enum_name("device", "rebroadcast_mode"))
        verdict = receive_verdict(
            mode,
            decodable=found is not None,
            port=found[1].portnum if found is not None else None,
            sender_known=known,
            firmware=firmware_tuple(self.firmware_version),
        )
        if found is not None and verdict.deliver:
            channel, data = found
            self.state.heard_from(packet, data, snr)
            self._handle_decoded(packet, channel, data, snr, rssi)
        relays = role != "CLIENT_MUTE" and verdict.relay and self.medium is not None
        if relays and packet.to != self.node_num and packet.hop_limit > 0:
            if found is None:
                self.opaque_relays += 1
            self._schedule_relay(packet, snr, role)

    def _duplicate(self, key: tuple[int, int], role: str) -> None:
        """``perhapsCancelDupe``: called under the lock for a packet already seen."""
        queued = self._seen[key]
        if queued is None:
            return
        if role not in ("ROUTER", "ROUTER_LATE"):
            queued.cancel()  # a client hearing the rebroadcast drops its own
            self._seen[key] = None
        elif role == "ROUTER_LATE" and not queued.late and self.medium is not None:
            queued.cancel()  # clampToLateRebroadcastWindow: once, behind every client
            slot = PRESETS.get(self.modem_preset, DEFAULT_PRESET).slot_time
            moved = Relay(queued.cancel, queued.fire, queued.snr, late=True)
            moved.cancel = self.medium.call_later(late_window_delay(queued.snr, slot), queued.fire)
            self._seen[key] = moved

    def _handle_decoded(
        self, packet: Any, channel: AirChannel, data: Any, snr: float, rssi: int
    ) -> None:
        """Modules and the phone see a packet we could decode."""
        to_us = packet.to == self.node_num
        if not (to_us or packet.to == BROADCAST):
            return
        rx = mesh_pb2.MeshPacket()
        rx.CopyFrom(packet)
        rx.ClearField("encrypted")
        rx.decoded.CopyFrom(data)
        rx.channel = channel.index
        rx.rx_snr = snr
        rx.rx_rssi = rssi
        rx.rx_time = int(time.time())
        if data.portnum == portnums_pb2.PortNum.ROUTING_APP and to_us and data.request_id:
            self.reliable.forget(data.request_id)  # the destination answered: it reaches the phone
        self.to_phone(rx)
        if to_us and packet.want_ack and data.portnum != portnums_pb2.PortNum.ROUTING_APP:
            ack = emu_phone.routing_reply(self, Routing.Error.NONE, packet.id, channel.index)
            ack.to = getattr(packet, "from")
            ack.hop_limit = ack.hop_start = self.state.config.lora.hop_limit
            self._originate(ack, channel.index)
        if data.portnum == portnums_pb2.PortNum.TELEMETRY_APP and data.want_response:
            reply = emu_phone.telemetry_reply(self._radio, rx)
            reply.hop_limit = reply.hop_start = self.state.config.lora.hop_limit
            self._originate(reply, channel.index)

    def _schedule_relay(self, packet: Any, snr: float, role: str) -> None:
        """Queue a rebroadcast after the SNR-weighted window (``getTxDelayMsecWeighted``): a
        ROUTER early, everyone else (ROUTER_LATE too, until it overhears a copy) after it."""
        assert self.medium is not None
        relay = mesh_pb2.MeshPacket()
        relay.CopyFrom(packet)
        relay.hop_limit -= 1
        relay.relay_node = self.node_num & 0xFF
        slot = PRESETS.get(self.modem_preset, DEFAULT_PRESET).slot_time
        firmware_role = Role.ROUTER if role == "ROUTER" else Role.CLIENT
        delay = relay_delay(firmware_role, snr, slot, self._rng)
        key = (getattr(packet, "from"), packet.id)
        medium = self.medium
        assert medium is not None

        relay.priority = 0  # not on air: the relay's own fixPriority decides
        priority = fix_priority(relay)

        def fire() -> None:
            with self._lock:
                if self._seen.get(key) is None:
                    return  # cancelled meanwhile
                self._seen[key] = None
            self._radio.send_air(relay, priority, from_us=False)

        with self._lock:
            self._seen[key] = Relay(medium.call_later(delay, fire), fire, snr)
