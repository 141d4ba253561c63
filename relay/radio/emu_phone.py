"""What an emulated radio does with a packet its client asks it to send (the firmware's
``MeshService::handleToRadio`` and ``Router::sendLocal``), and with admin messages for itself.

Rules, each from the firmware source:
* admin messages to the local node are handled here (src/modules/AdminModule.cpp): reads are
  answered, canned-message and ringtone requests too (empty strings on a fresh radio, so
  ``meshtastic --export-config`` completes); ``reboot_seconds`` reboots after that many seconds,
  ``factory_reset_config``/``factory_reset_device`` restore the defaults and reboot after
  ``DEFAULT_REBOOT_SECONDS`` (7, configuration.h); a ``commit_edit_settings``, and a config
  (not LoRa: applied live), module or owner edit outside a transaction, save and reboot 7 s
  later (``AdminModule::saveChanges``); a channel edit saves without rebooting;
* a packet addressed to the local node is handled locally: a telemetry request with
  ``want_response`` is answered with device metrics (MeshModule.cpp replies when the request is
  to us; a broadcast request is answered by the neighbours that hear it);
* a payload whose encoded ``Data`` would not fit is refused with TOO_LARGE; a full transmit
  queue answers with an error in QueueStatus; above the region's duty cycle DUTY_CYCLE_LIMIT
  (Router.cpp ``Router::send``);
* a client may send one TEXT_MESSAGE_APP every 2 s and one POSITION, WAYPOINT or ALERT_APP
  packet every 10 s, counted per client connection (src/mesh/PhoneAPI.cpp,
  ``PhoneAPI::handleToRadioPacket``, ``lastPortNumToRadio``): a packet sooner is dropped with a
  QueueStatus of res 0 (as if taken), and a text also gets a RATE_LIMIT_EXCEEDED routing error;
* a hop limit above 7 becomes 3 (RadioInterface.cpp);
* ``want_ack`` is reliable delivery (ReliableRouter.cpp, NextHopRouter.cpp): up to two
  retransmissions ``getRetransmissionMsec`` apart; an implicit ACK (hearing a neighbour relay
  it) or the destination's ACK answers ``Routing.NONE``; otherwise a NAK ``MAX_RETRANSMIT``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from meshtastic.protobuf import admin_pb2, mesh_pb2, portnums_pb2, telemetry_pb2

from relay.sim.meshrules import clamp_hop_limit

log = logging.getLogger(__name__)

BROADCAST = 0xFFFFFFFF
MAX_DATA_LEN = 239  # 255-byte LoRa frame minus the 16-byte header: encoded Data must fit
ERRNO_OK = 0
ERRNO_UNKNOWN = 32  # the firmware's answer when its TX queue is full
DEFAULT_REBOOT_SECONDS = 7.0  # configuration.h
PORT_GAPS = {  # PhoneAPI.cpp: TWO_SECONDS_MS for texts, TEN_SECONDS_MS for these others
    portnums_pb2.PortNum.TEXT_MESSAGE_APP: 2.0,
    portnums_pb2.PortNum.POSITION_APP: 10.0,
    portnums_pb2.PortNum.WAYPOINT_APP: 10.0,
    portnums_pb2.PortNum.ALERT_APP: 10.0,
}
REBOOTING_EDITS = ("set_config", "set_module_config", "set_owner")  # set_channel saves only
Routing = mesh_pb2.Routing


class Session(Protocol):
    """The client connection a request came from."""

    def send_queue_status(self, res: int, mesh_packet_id: int) -> None: ...


class PhoneRadio(Protocol):
    """What this module needs from :class:`relay.radio.emulator.EmulatedRadio`."""

    state: Any
    admin: Any
    max_payload: int | None
    queue_full: bool
    duty_cycle_percent: float | None
    from_phone: Any
    port_times: dict[int, dict[int, float]]  # id(session) -> portnum -> last accepted (s)
    rate_limited: int

    phone_clock: Callable[[], float]

    @property
    def node_num(self) -> int: ...

    def next_id(self) -> int: ...

    def to_phone(self, packet: Any, session: Any = None) -> None: ...

    def air_util_tx(self) -> float: ...

    def channel_utilization(self) -> float: ...

    def uptime(self) -> float: ...

    def send_own(self, packet: Any, session: Any) -> None: ...

    def reboot_later(self, seconds: float) -> None: ...


class Identity(Protocol):
    """A radio's number and packet ids."""

    @property
    def node_num(self) -> int: ...

    def next_id(self) -> int: ...


def routing_reply(radio: Identity, error: int, request_id: int, channel: int = 0) -> Any:
    """A Routing ACK/NAK from the local node, as ``sendAckNak`` gives it to the phone."""
    pkt = mesh_pb2.MeshPacket(to=radio.node_num, id=radio.next_id(), channel=channel)
    setattr(pkt, "from", radio.node_num)
    pkt.rx_time = int(time.time())
    pkt.priority = mesh_pb2.MeshPacket.Priority.ACK
    pkt.decoded.portnum = portnums_pb2.PortNum.ROUTING_APP
    pkt.decoded.payload = Routing(error_reason=error).SerializeToString()
    pkt.decoded.request_id = request_id
    return pkt


def device_metrics(radio: PhoneRadio) -> Any:
    """The DeviceMetrics telemetry this radio reports."""
    telemetry = telemetry_pb2.Telemetry(time=int(time.time()))
    metrics = telemetry.device_metrics
    metrics.channel_utilization = radio.channel_utilization()
    metrics.air_util_tx = radio.air_util_tx()
    metrics.battery_level = 101  # powered
    metrics.uptime_seconds = int(radio.uptime())
    return telemetry


def too_large(radio: PhoneRadio, packet: Any) -> bool:
    """The encoded Data (with its bitfield) would not fit the frame."""
    if radio.max_payload is not None:
        return len(packet.decoded.payload) > radio.max_payload
    data = mesh_pb2.Data()
    data.CopyFrom(packet.decoded)
    data.bitfield = data.bitfield  # the firmware always adds its bitfield
    return len(data.SerializeToString()) > MAX_DATA_LEN


def handle_phone_packet(radio: PhoneRadio, session: Session, packet: Any) -> None:
    """A MeshPacket the client asked us to send."""
    setattr(packet, "from", radio.node_num)
    if packet.id == 0:
        packet.id = radio.next_id()
    radio.from_phone.append(packet)
    decoded = packet.HasField("decoded")
    if decoded and _rate_limited(radio, session, packet):
        return
    local = packet.to in (radio.node_num, 0)
    if decoded and local and packet.decoded.portnum == portnums_pb2.PortNum.ADMIN_APP:
        session.send_queue_status(ERRNO_OK, packet.id)
        handle_admin(radio, session, packet)
        return
    if decoded and too_large(radio, packet):
        session.send_queue_status(Routing.Error.TOO_LARGE, packet.id)
        radio.to_phone(routing_reply(radio, Routing.Error.TOO_LARGE, packet.id, packet.channel))
        return
    if radio.queue_full:
        session.send_queue_status(ERRNO_UNKNOWN, packet.id)
        return
    limit = radio.duty_cycle_percent
    if limit is not None and limit < 100 and radio.air_util_tx() > limit:
        session.send_queue_status(Routing.Error.DUTY_CYCLE_LIMIT, packet.id)
        radio.to_phone(routing_reply(radio, Routing.Error.DUTY_CYCLE_LIMIT, packet.id))
        return
    if local:
        session.send_queue_status(ERRNO_OK, packet.id)
        _handle_local(radio, session, packet)
        return
    packet.hop_limit = clamp_hop_limit(packet.hop_limit)
    packet.hop_start = packet.hop_limit
    packet.rx_time = int(time.time())
    radio.send_own(packet, session)


def _rate_limited(radio: PhoneRadio, session: Session, packet: Any) -> bool:
    """PhoneAPI::handleToRadioPacket's per-port throttle (see the module docstring)."""
    port = int(packet.decoded.portnum)
    gap = PORT_GAPS.get(port)
    if gap is None:
        return False
    now = radio.phone_clock()
    times = radio.port_times.setdefault(id(session), {})
    last = times.get(port)
    if last is not None and now - last < gap:
        radio.rate_limited += 1
        session.send_queue_status(ERRNO_OK, packet.id)
        if port == portnums_pb2.PortNum.TEXT_MESSAGE_APP:
            error = Routing.Error.RATE_LIMIT_EXCEEDED
            radio.to_phone(routing_reply(radio, error, packet.id, packet.channel), session)
        return True
    times[port] = now
    return False


def _handle_local(radio: PhoneRadio, session: Any, packet: Any) -> None:
    """``Router::sendLocal`` for a packet to ourselves: modules answer a request."""
    if packet.want_ack:
        radio.to_phone(routing_reply(radio, Routing.Error.NONE, packet.id, packet.channel), session)
    if (
        packet.HasField("decoded")
        and packet.decoded.portnum == portnums_pb2.PortNum.TELEMETRY_APP
        and packet.decoded.want_response
    ):
        reply = telemetry_reply(radio, packet)
        radio.to_phone(reply, session)


def telemetry_reply(radio: PhoneRadio, request: Any) -> Any:
    """DeviceTelemetryModule's answer to a telemetry request."""
    reply = mesh_pb2.MeshPacket(to=getattr(request, "from"), id=radio.next_id())
    setattr(reply, "from", radio.node_num)
    reply.channel = request.channel
    reply.rx_time = int(time.time())
    reply.decoded.portnum = portnums_pb2.PortNum.TELEMETRY_APP
    reply.decoded.payload = device_metrics(radio).SerializeToString()
    reply.decoded.request_id = request.id
    return reply


def handle_admin(radio: PhoneRadio, session: Any, packet: Any) -> None:
    """An AdminMessage for the local node (AdminModule::handleReceivedProtobuf)."""
    message = admin_pb2.AdminMessage()
    try:
        message.ParseFromString(packet.decoded.payload)
    except Exception:
        log.debug("ignoring malformed admin message")
        return
    variant = message.WhichOneof("payload_variant")
    state = radio.state
    reply: Any = None
    reboot_in: float | None = None
    with state.lock:
        if variant == "get_canned_message_module_messages_request":
            reply = admin_pb2.AdminMessage()
            reply.get_canned_message_module_messages_response = state.canned_messages
        elif variant == "get_ringtone_request":
            reply = admin_pb2.AdminMessage(get_ringtone_response=state.ringtone)
        elif variant == "set_canned_message_module_messages":
            state.canned_messages = message.set_canned_message_module_messages[:200]
        elif variant == "set_ringtone_message":
            state.ringtone = message.set_ringtone_message[:230]
        elif variant == "reboot_seconds":
            if message.reboot_seconds >= 0:  # a negative value cancels (rebootAtMsec = 0)
                reboot_in = float(message.reboot_seconds)
        elif variant in ("factory_reset_config", "factory_reset_device"):
            state.factory_reset()
            reboot_in = DEFAULT_REBOOT_SECONDS
        else:
            was_editing = getattr(radio.admin, "in_transaction", False)
            reply = radio.admin.handle_admin(state, message, packet)
            lora_only = variant == "set_config" and message.set_config.HasField("lora")
            if variant == "commit_edit_settings" or (
                variant in REBOOTING_EDITS and not was_editing and not lora_only
            ):
                reboot_in = DEFAULT_REBOOT_SECONDS  # saveChanges(..., shouldReboot=true)
    if packet.want_ack:
        radio.to_phone(routing_reply(radio, Routing.Error.NONE, packet.id, packet.channel), session)
    if reply is not None:
        out = mesh_pb2.MeshPacket(to=radio.node_num, id=radio.next_id(), channel=packet.channel)
        setattr(out, "from", radio.node_num)
        out.rx_time = int(time.time())
        out.decoded.portnum = portnums_pb2.PortNum.ADMIN_APP
        if not reply.session_passkey:
            reply.session_passkey = b"\x00" * 8
        out.decoded.payload = reply.SerializeToString()
        out.decoded.request_id = packet.id
        radio.to_phone(out, session)
    if reboot_in is not None:
        radio.reboot_later(reboot_in)
