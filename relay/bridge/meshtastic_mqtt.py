"""Meshtastic's own MQTT: the ServiceEnvelopes stock radios uplink, and those they take to downlink.

Sans-IO: topic and payload bytes in, a Jarshy frame (or a typed refusal) out; a Jarshy frame in,
a topic and payload to publish out. The MQTT client lives in the bridge link. With this, any
stock Meshtastic radio with Wi-Fi and MQTT on the Jarshy channel is a bridge. See
docs/meshtastic-mqtt.md. Each rule follows the firmware (2.7/2.8 sources) or the protobufs:

* **Topics** (src/mqtt/MQTT.cpp, ``MQTT::MQTT``, ``onSend``, ``sendSubscriptions``): a radio
  publishes on ``<root>/2/e/<channel name>/!<its node number, 8 hex digits>`` (root default
  ``msh``, at most 31 characters: module_config.options) and, for each channel with downlink on,
  subscribes to ``<root>/2/e/<channel name>/+``.
* **The envelope** (mqtt.proto ``ServiceEnvelope``; MQTT.cpp ``onSend``): ``packet`` is the
  MeshPacket as heard, ``encrypted`` when ``mqtt.encryption_enabled`` (its ``channel`` field is
  then the channel hash) or ``decoded`` otherwise (``channel`` is then a local index);
  ``channel_id`` is the channel's name (``Channels::getGlobalId``) and ``gateway_id`` the
  uplinking radio's ``!%08x`` (``NodeDB::getNodeId``). A packet that arrived over MQTT is never
  uplinked again (``onSend``: ``via_mqtt``); so an envelope with ``via_mqtt`` set comes from a
  gateway's downlink, never from a radio's uplink.
* **Downlink** (MQTT.cpp ``onReceiveProto``): the radio needs ``packet``, ``channel_id`` and
  ``gateway_id``; it takes the packet only when ``channel_id`` names (case-insensitively) a
  channel with downlink on, ``gateway_id`` is not its own, ``from`` is neither its own nor
  broadcast, and hop limit and hop start are at most 7 (``HOP_MAX``); it relays the packet on
  LoRa, with one hop less, only when the hop limit is above 0 and it is a rebroadcaster
  (NextHopRouter.cpp ``perhapsRebroadcast``). A decoded packet is
  ignored when the radio's ``mqtt.encryption_enabled`` is on; an encrypted one is decrypted like
  one heard on air (Router.cpp ``perhapsDecode``: the channel hash picks the key, and the result
  must parse as a ``Data`` with a port other than 0), then relayed on LoRa.
* **Sizes** (mesh.options): ``MeshPacket.encrypted`` at most 256 bytes, ``Data.payload`` 233.

Jarshy's payload on the mesh (docs/radio.md, relay/radio/framing.py): port 330, ``MAGIC + frame``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError
from meshtastic.protobuf import mesh_pb2, mqtt_pb2

from relay.bridge.channel_crypto import MAX_BLOCKSIZE, ChannelKey, check_channel_name
from relay.inert import quoted
from relay.radio.framing import FRAME_MAX, JARSHY_PORT, unwrap, wrap
from relay.sync.events import BROADCAST, PacketReceived

DEFAULT_ROOT = "msh"  # MQTT.cpp: the root topic when mqtt.root is empty
ROOT_MAX = 31  # module_config.options: MQTTConfig.root max_size 32, with its terminating NUL
ENVELOPE_MAX = 512  # an honest envelope is under 400 bytes: 256 encrypted + header + two short ids
TOPIC_MAX = 128  # root (31) + "/2/e/" + channel (11) + "/!" + 8 hex digits, with room to spare
HOP_MAX = 7  # MeshTypes.h; MQTT.cpp onReceiveProto refuses more
DEFAULT_HOP_LIMIT = 3  # MeshTypes.h HOP_RELIABLE: a stock radio's default hop limit
RESERVED_NODES = 4  # NodeDB.cpp NUM_RESERVED: node numbers 0..3 are never a radio's
_NODE_ID = re.compile(r"![0-9a-f]{8}")
UNREADABLE = "unreadable"  # the detail of a refusal only the last guard caught


class Refusal(enum.StrEnum):
    """Why an envelope was not taken in; the value is what counters and logs say."""

    OVERSIZED = "oversized"  # over ENVELOPE_MAX bytes, or an encrypted part over 256
    TOPIC = "topic"  # not <root>/2/e/<channel>/!<8 hex digits>
    NOT_ENVELOPE = "not-envelope"  # not a ServiceEnvelope protobuf
    NO_PACKET = "no-packet"  # an envelope without a packet, or a packet without a payload
    CHANNEL = "channel"  # channel_id is not the Jarshy channel, or not the topic's
    GATEWAY = "gateway"  # gateway_id is not a node id, or not the topic's
    ECHO = "echo"  # via_mqtt: published for downlink by a gateway, not uplinked by a radio
    SENDER = "sender"  # from is broadcast or a reserved node number
    DIRECT = "direct"  # addressed to one node; Jarshy frames are broadcasts
    HOPS = "hops"  # hop limit or hop start over 7
    CHANNEL_HASH = "channel-hash"  # encrypted for another channel or key
    UNDECRYPTABLE = "undecryptable"  # the channel key gives no Data with a port (wrong key, junk)
    PLAINTEXT = "plaintext"  # a decoded packet while plaintext is not allowed
    OTHER_PORT = "other-port"  # another application's port
    NOT_JARSHY = "not-jarshy"  # Jarshy's port without Jarshy's magic
    FRAME_SIZE = "frame-size"  # a Jarshy frame longer than one radio packet carries


@dataclass(frozen=True, slots=True)
class Refused:
    """An envelope not taken in: the reason, and one inert line saying what was wrong."""

    reason: Refusal
    detail: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Uplinked:
    """A Jarshy frame a stock radio uplinked, with what the envelope says about it."""

    frame: bytes  # the Jarshy frame (magic stripped), at most FRAME_MAX bytes
    sender: int  # MeshPacket.from: the node that sent it on the mesh
    packet_id: int  # MeshPacket.id
    gateway: int  # the uplinking radio's node number (gateway_id "!%08x")
    channel_id: str  # the channel name the envelope names
    hop_limit: int  # hops it could still travel when the gateway heard it
    hop_start: int | None  # the sender's hop limit; None when 0 (firmware before 2.3: unknown)
    encrypted: bool  # False: uplinked decoded (the gateway had mqtt.encryption_enabled off)

    @property
    def gateway_id(self) -> str:
        """The gateway as the firmware writes it: ``!%08x``."""
        return node_id(self.gateway)

    @property
    def hops(self) -> int | None:
        """Hops travelled before the gateway heard it, when the packet says."""
        if self.hop_start is None or self.hop_start < self.hop_limit:
            return None
        return self.hop_start - self.hop_limit

    def as_packet(self) -> PacketReceived:
        """The frame as the engine takes one from the radio (no SNR or RSSI: heard over IP)."""
        return PacketReceived(self.frame, self.sender, hops=self.hops, hop_limit=self.hop_limit)


@dataclass(frozen=True, slots=True)
class Downlink:
    """One message to publish (QoS 1, not retained) for stock radios to relay on their mesh."""

    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class UplinkTopic:
    """What an uplink topic names: the channel and the uplinking radio."""

    channel_id: str
    gateway: int


# --- topics ----------------------------------------------------------------------------------


def check_root(root: str) -> None:
    """ValueError unless ``root`` can be a radio's ``mqtt.root`` ("msh", "msh/KZ")."""
    if not root or len(root.encode("utf-8", "replace")) > ROOT_MAX:
        raise ValueError(f"an MQTT root topic is 1 to {ROOT_MAX} bytes (a radio holds no more)")
    if any(ch in root for ch in "+#\0") or root.startswith("/") or root.endswith("/"):
        raise ValueError("an MQTT root topic has no '+', '#' or NUL and no '/' at either end")


def node_id(node: int) -> str:
    """A node number as the firmware names it in topics and envelopes: ``!%08x``
    (``NodeDB::getNodeId``, src/mesh/NodeDB.cpp)."""
    if not 0 <= node <= 0xFFFFFFFF:
        raise ValueError("a node number is 32-bit unsigned")
    return f"!{node:08x}"


def parse_node_id(text: str) -> int | None:
    """The node number of ``!%08x`` (lower-case, as the firmware writes it), else None."""
    if not _NODE_ID.fullmatch(text):
        return None
    return int(text[1:], 16)


def uplink_filter(channel: str, root: str = DEFAULT_ROOT) -> str:
    """The filter for what radios uplink on ``channel``: ``<root>/2/e/<ch>/+``, the one a radio
    with downlink on subscribes to (``MQTT::sendSubscriptions``, src/mqtt/MQTT.cpp)."""
    check_root(root)
    check_channel_name(channel)
    return f"{root}/2/e/{channel}/+"


def downlink_topic(channel: str, gateway: int, root: str = DEFAULT_ROOT) -> str:
    """Where a gateway publishes for radios to downlink: ``<root>/2/e/<ch>/!<gateway>``, the
    topic a radio itself publishes on (``MQTT::onSend``, src/mqtt/MQTT.cpp)."""
    check_root(root)
    check_channel_name(channel)
    return f"{root}/2/e/{channel}/{node_id(gateway)}"


def parse_uplink_topic(topic: str, root: str = DEFAULT_ROOT) -> UplinkTopic | None:
    """The channel and gateway of ``<root>/2/e/<channel>/!<node>``, or None for any other topic."""
    prefix = f"{root}/2/e/"
    if len(topic) > TOPIC_MAX or not topic.startswith(prefix):
        return None
    channel, slash, gateway_text = topic[len(prefix) :].partition("/")
    gateway = parse_node_id(gateway_text)
    if not slash or gateway is None:
        return None
    try:
        check_channel_name(channel)
    except ValueError:
        return None
    return UplinkTopic(channel, gateway)


# --- uplink: envelope -> Jarshy frame ----------------------------------------------------------


def decode_uplink(
    topic: str,
    payload: bytes,
    channel: ChannelKey,
    *,
    root: str = DEFAULT_ROOT,
    allow_plaintext: bool = False,
) -> Uplinked | Refused:
    """The Jarshy frame in one message from the broker, or why it is refused.

    ``topic`` and ``payload`` are the message as received; ``channel`` the Jarshy channel with its
    key. ``allow_plaintext`` takes decoded packets too (radios with ``mqtt.encryption_enabled``
    off); without the key anyone on the broker could then inject frames. Frames still have to
    pass the node's verification and trust rules: this only unwraps them. Nothing from the broker
    makes it raise; a bad ``root`` (the caller's mistake) is a ValueError.
    """
    check_root(root)
    try:
        return _decode(topic, payload, channel, root, allow_plaintext)
    except Exception as exc:  # a last guard (the tests check it is never needed)
        return Refused(Refusal.NOT_ENVELOPE, f"{UNREADABLE} ({type(exc).__name__})")


def _decode(
    topic: Any, payload: Any, channel: ChannelKey, root: str, allow_plaintext: bool
) -> Uplinked | Refused:
    if not isinstance(payload, bytes | bytearray | memoryview):
        return Refused(Refusal.NOT_ENVELOPE, f"payload is {type(payload).__name__}, not bytes")
    if len(payload) > ENVELOPE_MAX:
        size = len(payload)
        return Refused(Refusal.OVERSIZED, f"{size} bytes; an envelope is at most {ENVELOPE_MAX}")
    where = parse_uplink_topic(topic, root) if isinstance(topic, str) else None
    if where is None:
        shown = quoted(topic, 80) if isinstance(topic, str) else type(topic).__name__
        return Refused(Refusal.TOPIC, f"{shown} is not {root}/2/e/<channel>/!<node>")
    envelope = mqtt_pb2.ServiceEnvelope()
    try:
        envelope.ParseFromString(bytes(payload))
    except DecodeError:
        return Refused(Refusal.NOT_ENVELOPE, f"{len(payload)} bytes that are no ServiceEnvelope")
    if not envelope.HasField("packet"):
        return Refused(Refusal.NO_PACKET, "the envelope carries no packet")
    if envelope.channel_id != channel.name or where.channel_id != channel.name:
        return Refused(
            Refusal.CHANNEL,
            f"channel {quoted(envelope.channel_id, 24)} on topic channel "
            f"{quoted(where.channel_id, 24)}; Jarshy's is {quoted(channel.name)}",
        )
    gateway = parse_node_id(envelope.gateway_id)
    if gateway is None or gateway != where.gateway:
        return Refused(
            Refusal.GATEWAY,
            f"gateway {quoted(envelope.gateway_id, 24)} on topic {node_id(where.gateway)}",
        )
    return _packet(envelope.packet, channel, where.channel_id, gateway, allow_plaintext)


def _packet(
    packet: Any, channel: ChannelKey, channel_id: str, gateway: int, allow_plaintext: bool
) -> Uplinked | Refused:
    sender, ident = _sender(packet), packet.id
    if packet.via_mqtt:
        return Refused(Refusal.ECHO, f"packet {ident:#010x} came from MQTT, not from a radio")
    if sender == BROADCAST or sender < RESERVED_NODES:
        return Refused(Refusal.SENDER, f"sender {node_id(sender)} is no radio")
    if packet.to != BROADCAST:
        return Refused(Refusal.DIRECT, f"packet {ident:#010x} is addressed to {node_id(packet.to)}")
    if packet.hop_limit > HOP_MAX or packet.hop_start > HOP_MAX:
        return Refused(
            Refusal.HOPS,
            f"hop limit {packet.hop_limit}, hop start {packet.hop_start}; at most {HOP_MAX}",
        )
    variant = packet.WhichOneof("payload_variant")
    if variant == "encrypted":
        data = _decrypt(packet, channel)
        if isinstance(data, Refused):
            return data
    elif variant == "decoded":
        if not allow_plaintext:
            return Refused(Refusal.PLAINTEXT, f"packet {ident:#010x} is not encrypted")
        data = packet.decoded
    else:
        return Refused(Refusal.NO_PACKET, f"packet {ident:#010x} has no payload")
    if data.portnum != JARSHY_PORT:
        return Refused(Refusal.OTHER_PORT, f"port {data.portnum}; Jarshy's is {JARSHY_PORT}")
    frame = unwrap(data.payload)
    if frame is None:
        return Refused(Refusal.NOT_JARSHY, f"port {JARSHY_PORT} payload without Jarshy's magic")
    if len(frame) > FRAME_MAX:
        return Refused(Refusal.FRAME_SIZE, f"a {len(frame)}-byte frame; at most {FRAME_MAX}")
    return Uplinked(
        frame=frame,
        sender=sender,
        packet_id=ident,
        gateway=gateway,
        channel_id=channel_id,
        hop_limit=packet.hop_limit,
        hop_start=packet.hop_start or None,
        encrypted=variant == "encrypted",
    )


def _sender(packet: Any) -> int:
    """``MeshPacket.from``, a Python keyword."""
    return int(getattr(packet, "from"))


def _decrypt(packet: Any, channel: ChannelKey) -> Any:
    """The packet's Data under the channel key (Router.cpp ``perhapsDecode``), or a Refused."""
    ident = packet.id
    if len(packet.encrypted) > MAX_BLOCKSIZE:
        return Refused(Refusal.OVERSIZED, f"{len(packet.encrypted)} encrypted bytes; at most 256")
    if packet.channel != channel.hash:
        return Refused(
            Refusal.CHANNEL_HASH, f"channel hash {packet.channel:#04x}, not {channel.hash:#04x}"
        )
    plain = channel.crypt(_sender(packet), ident, packet.encrypted)
    data = mesh_pb2.Data()
    try:
        data.ParseFromString(plain)
    except DecodeError:
        data.Clear()
    if data.portnum == 0:  # perhapsDecode: "Invalid portnum (bad psk?)"
        return Refused(Refusal.UNDECRYPTABLE, f"packet {ident:#010x} decrypts to no Data")
    return data


class SeenPackets:
    """The packets taken in lately, by (sender, packet id): every radio that hears a packet may
    uplink it, and the node should hear it once, as from its own radio, whose firmware keeps
    such a bounded history (src/mesh/PacketHistory.cpp, ``PACKETHISTORY_MAX`` entries)."""

    def __init__(self, capacity: int = 1024) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._seen: dict[tuple[int, int], None] = {}  # insertion order: oldest first

    def first(self, uplinked: Uplinked) -> bool:
        """True the first time this packet comes by (then remembered), False for a copy."""
        key = (uplinked.sender, uplinked.packet_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.capacity:
            del self._seen[next(iter(self._seen))]
        return True

    def __len__(self) -> int:
        return len(self._seen)


# --- downlink: Jarshy frame -> envelope ----------------------------------------------------------


def encode_downlink(
    frame: bytes,
    channel: ChannelKey,
    *,
    sender: int,
    packet_id: int,
    gateway: int | None = None,
    hop_limit: int = DEFAULT_HOP_LIMIT,
    root: str = DEFAULT_ROOT,
) -> Downlink:
    """The envelope a stock radio with downlink on the Jarshy channel relays on its mesh.

    ``sender`` is the node number the packet comes from: the gateway's own, a number no radio
    uses (the receiving radio ignores packets "from" itself, and under the Balanced signature
    policy drops unsigned broadcasts from a node it knows to sign: Router.cpp
    ``checkXeddsaReceivePolicy``). ``packet_id`` (non-zero) with ``sender`` must not repeat: the
    radios drop a (sender, id) they have seen, and the pair is the cipher's nonce. ``gateway``
    (default: ``sender``) names the publisher in ``gateway_id`` and the topic; it must not be the
    receiving radio's own number. The radio handles the packet as if heard on air and relays it
    when ``hop_limit`` is at least 1, with one less (NextHopRouter.cpp ``perhapsRebroadcast``).
    ValueError on an empty or oversized frame or a bad number.
    """
    payload = wrap(frame)  # ValueError if empty or over FRAME_MAX
    if sender == BROADCAST or not RESERVED_NODES <= sender <= 0xFFFFFFFF:
        raise ValueError(f"sender must be a node number from {RESERVED_NODES} to 0xfffffffe")
    if not 1 <= packet_id <= 0xFFFFFFFF:
        raise ValueError("a packet id is 1 to 0xffffffff")
    if not 1 <= hop_limit <= HOP_MAX:
        raise ValueError(
            f"hop limit {hop_limit} is outside 1..{HOP_MAX}: the radio relays a downlink on air "
            "only with hops left, and with one less"
        )
    publisher = sender if gateway is None else gateway
    topic = downlink_topic(channel.name, publisher, root)
    # The bitfield is always present since firmware 2.5 (Router.cpp perhapsEncode); builds with
    # pre-hop drop refuse a packet with hop start 0 and none (NodeDB.cpp classifyHopStart). Its
    # OK_TO_MQTT bit stays off: a downlinked packet is not for uplinking again.
    data = mesh_pb2.Data(portnum=JARSHY_PORT, payload=payload, bitfield=0)
    packet = mesh_pb2.MeshPacket(
        **{"from": sender},  # "from" is a Python keyword
        to=BROADCAST,
        channel=channel.hash,
        id=packet_id,
        encrypted=channel.crypt(sender, packet_id, data.SerializeToString()),
        hop_limit=hop_limit,
        hop_start=hop_limit,
        via_mqtt=True,  # ignored by radios (they set it); tells Jarshy gateways "not an uplink"
    )
    envelope = mqtt_pb2.ServiceEnvelope(
        packet=packet, channel_id=channel.name, gateway_id=node_id(publisher)
    )
    return Downlink(topic, envelope.SerializeToString())
