"""Meshtastic MQTT interop: envelopes built with the official protobuf classes, encrypted here with
``cryptography``'s AES-CTR (not with the code under test), against relay.bridge.meshtastic_mqtt."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
import subprocess
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from meshtastic.protobuf import mesh_pb2, mqtt_pb2, portnums_pb2
from meshtastic.util import DEFAULT_KEY

from relay.bridge.channel_crypto import ChannelKey, aes_ctr, packet_nonce
from relay.bridge.meshtastic_mqtt import (
    ENVELOPE_MAX,
    UNREADABLE,
    Refusal,
    Refused,
    SeenPackets,
    Uplinked,
    decode_uplink,
    downlink_topic,
    encode_downlink,
    node_id,
    parse_node_id,
    parse_uplink_topic,
    uplink_filter,
)
from relay.radio.framing import FRAME_MAX, JARSHY_PORT, MAGIC
from relay.sync.events import BROADCAST, PacketReceived
from tests.bridge.conftest import MOSQUITTO, Broker

PSK = hashlib.sha256(b"jarshy test channel").digest()  # 32 bytes, as `jarshy provision` makes
JARSHY = ChannelKey.from_psk("Jarshy", PSK)
SENDER = 0x1A2B3C4D
GATEWAY = 0xDEADBEEF
TOPIC = "msh/KZ/2/e/Jarshy/!deadbeef"
FRAME = b"\x01jarshy frame \x00\xff" * 5


def xor(data: bytes) -> int:
    h = 0
    for b in data:
        h ^= b
    return h


def ctr(key: bytes, sender: int, packet_id: int, data: bytes) -> bytes:
    """The firmware's packet cipher, written out independently of the code under test."""
    if not key:  # CryptoEngine::encryptPacket: key length 0 leaves the bytes as they are
        return data
    nonce = packet_id.to_bytes(8, "little") + sender.to_bytes(4, "little") + bytes(4)
    enc = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
    return enc.update(data) + enc.finalize()


def data_bytes(payload: bytes, port: int = JARSHY_PORT, **fields: Any) -> bytes:
    return mesh_pb2.Data(portnum=port, payload=payload, **fields).SerializeToString()


def envelope(
    plain: bytes | None = None,
    *,
    key: bytes = PSK,
    name: str = "Jarshy",
    sender: int = SENDER,
    packet_id: int = 0x0BADCAFE,
    channel_hash: int | None = None,
    gateway_id: str = "!deadbeef",
    hop_limit: int = 2,
    hop_start: int = 3,
    decoded: bytes | None = None,
    **packet_fields: Any,
) -> bytes:
    """A ServiceEnvelope as MQTT.cpp onSend publishes it (encryption_enabled on)."""
    packet = mesh_pb2.MeshPacket(
        to=BROADCAST, id=packet_id, hop_limit=hop_limit, hop_start=hop_start, **packet_fields
    )
    setattr(packet, "from", sender)
    if decoded is not None:
        packet.decoded.ParseFromString(decoded)
        packet.channel = 0  # a local index once decoded
    else:
        body = data_bytes(MAGIC + FRAME) if plain is None else plain
        packet.encrypted = ctr(key, sender, packet_id, body)
        packet.channel = xor(name.encode()) ^ xor(key) if channel_hash is None else channel_hash
    return mqtt_pb2.ServiceEnvelope(
        packet=packet, channel_id=name, gateway_id=gateway_id
    ).SerializeToString()


def refused(result: Uplinked | Refused) -> Refusal:
    assert isinstance(result, Refused), result
    assert "\n" not in result.detail and "\x1b" not in result.detail
    assert not result.detail.startswith(UNREADABLE), result  # a real check refused it
    return result.reason


# --- known answers -------------------------------------------------------------------------------


def test_default_key_index_expands_to_the_published_default_key() -> None:
    assert ChannelKey.from_base64("LongFast", "AQ==").key == DEFAULT_KEY
    assert base64.b64decode("1PG7OiApB1nwvP+rz05pAQ==") == DEFAULT_KEY
    bumped = ChannelKey.from_psk("x", b"\x05").key  # index n raises the last byte by n - 1
    assert bumped[:-1] == DEFAULT_KEY[:-1] and bumped[-1] == DEFAULT_KEY[-1] + 4
    assert ChannelKey.from_psk("x", b"\xff").key[-1] == (DEFAULT_KEY[-1] + 254) & 0xFF


def test_public_longfast_channel_has_hash_8() -> None:
    # The hash every public-mesh MQTT capture shows for LongFast with the default key.
    assert ChannelKey.from_base64("LongFast", "AQ==").hash == 8


# A real uplink captured on the public mesh, the test vector of the official C# library
# (meshtastic/c-sharp, Meshtastic.Test/Crypto/PacketCryptoTests.cs): LongFast, default key, a
# NODEINFO packet whose user's long name is "Meshtastic 65a4".
REAL_FROM, REAL_ID = 4202784164, 1777428186
REAL_ENCRYPTED = base64.b64decode(
    "kiDV39nDDsi8AON+Czei6zUpy+F/7E+lyIpicxJR40KXBFmPkqFUEnobI5voQadha+s="
)


def test_a_real_captured_uplink_decrypts_to_its_known_content() -> None:
    longfast = ChannelKey.from_base64("LongFast", "AQ==")
    data = mesh_pb2.Data.FromString(longfast.crypt(REAL_FROM, REAL_ID, REAL_ENCRYPTED))
    assert data.portnum == portnums_pb2.NODEINFO_APP
    assert mesh_pb2.User.FromString(data.payload).long_name == "Meshtastic 65a4"
    # The same packet as its envelope: hash 8 matches, and Jarshy refuses it for its port only.
    packet = mesh_pb2.MeshPacket(
        to=BROADCAST, channel=8, encrypted=REAL_ENCRYPTED, id=REAL_ID, hop_limit=3, hop_start=3
    )
    setattr(packet, "from", REAL_FROM)
    wire = mqtt_pb2.ServiceEnvelope(
        packet=packet, channel_id="LongFast", gateway_id="!fa8165a4"
    ).SerializeToString()
    got = decode_uplink("msh/US/2/e/LongFast/!fa8165a4", wire, longfast, root="msh/US")
    assert refused(got) is Refusal.OTHER_PORT and "port 4;" in got.detail


def test_key_expansion_follows_channels_getkey() -> None:
    assert not ChannelKey.from_psk("x", b"").encrypted
    assert not ChannelKey.from_psk("x", b"\x00").encrypted
    assert ChannelKey.from_psk("x", b"abcde").key == b"abcde" + bytes(11)
    assert ChannelKey.from_psk("x", b"a" * 20).key == b"a" * 20 + bytes(12)
    assert ChannelKey.from_psk("x", b"k" * 16).key == b"k" * 16
    assert JARSHY.key == PSK
    assert JARSHY.hash == xor(b"Jarshy") ^ xor(PSK)
    assert "key" not in repr(JARSHY) and PSK.hex() not in repr(JARSHY)


@pytest.mark.parametrize(
    ("key", "nonce", "expected"),
    [  # RFC 3686 section 6, the vectors the firmware's test_crypto (test_AES_CTR) checks
        (
            "776BEFF2851DB06F4C8A0542C8696F6C6A81AF1EEC96B4D37FC1D689E6C1C104",
            "00000060DB5672C97AA8F0B200000001",
            "145AD01DBF824EC7560863DC71E3E0C0",
        ),
        (
            "AE6852F8121067CC4BF7A5765577F39E",
            "00000030000000000000000000000001",
            "E4095D4FB7A7B3792D6175A3261311B8",
        ),
    ],
)
def test_aes_ctr_matches_rfc3686_vectors(key: str, nonce: str, expected: str) -> None:
    out = aes_ctr(bytes.fromhex(key), bytes.fromhex(nonce), b"Single block msg")
    assert out == bytes.fromhex(expected)


def test_the_counter_is_the_last_four_bytes_and_wraps_there() -> None:
    # rweather CTR with setCounterSize(4), as CryptoEngine::encryptAESCtr sets it
    key, nonce = bytes(range(16)), bytes(12) + b"\xff\xff\xff\xff"
    ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    stream = ecb.update(nonce + bytes(16))
    assert aes_ctr(key, nonce, bytes(32)) == stream


def test_nonce_is_id_u64_le_then_sender_u32_le_then_zeros() -> None:
    assert packet_nonce(0x11223344, 0xAABBCCDD) == bytes.fromhex("ddccbbaa000000004433221100000000")
    assert packet_nonce(1, 2) == struct.pack("<QII", 2, 1, 0)


def test_channel_key_refuses_bad_names_and_keys() -> None:
    for name in ("", "twelve chars", "a/b", "a+", "#", "\ud800"):
        with pytest.raises(ValueError):
            ChannelKey.from_psk(name, PSK)
    with pytest.raises(ValueError, match="at most 32"):
        ChannelKey.from_psk("x", bytes(33))
    with pytest.raises(ValueError, match="base64"):
        ChannelKey.from_base64("x", "not base64!")
    assert ChannelKey.from_base64("Jarshy", "base64:" + base64.b64encode(PSK).decode()) == JARSHY


# --- topics --------------------------------------------------------------------------------------


def test_topics_follow_mqtt_cpp() -> None:
    assert uplink_filter("Jarshy") == "msh/2/e/Jarshy/+"
    assert uplink_filter("Jarshy", root="msh/KZ") == "msh/KZ/2/e/Jarshy/+"
    assert downlink_topic("Jarshy", GATEWAY, root="msh/KZ") == TOPIC
    assert node_id(0x0000ABCD) == "!0000abcd"
    assert parse_node_id("!0000abcd") == 0xABCD
    for bad in ("0000abcd", "!abcd", "!0000ABCD", "!0000abcdef", "!0000abcg", ""):
        assert parse_node_id(bad) is None
    where = parse_uplink_topic(TOPIC, root="msh/KZ")
    assert where is not None and (where.channel_id, where.gateway) == ("Jarshy", GATEWAY)
    for bad in (
        "msh/KZ/2/e/Jarshy",
        "msh/KZ/2/e/Jarshy/!deadbeef/x",
        "msh/KZ/2/json/Jarshy/!deadbeef",
        "msh/2/e/Jarshy/!deadbeef",
        "msh/KZ/2/e//!deadbeef",
        "msh/KZ/2/e/Jarshy/+",
    ):
        assert parse_uplink_topic(bad, root="msh/KZ") is None, bad
    for root in ("", "msh/#", "msh/+/x", "/msh", "msh/", "m" * 32):
        with pytest.raises(ValueError):
            uplink_filter("Jarshy", root=root)


# --- uplink --------------------------------------------------------------------------------------


def test_uplink_from_a_stock_radio_gives_the_frame_and_its_metadata() -> None:
    result = decode_uplink(TOPIC, envelope(), JARSHY, root="msh/KZ")
    assert isinstance(result, Uplinked)
    assert result.frame == FRAME
    assert (result.sender, result.packet_id, result.gateway) == (SENDER, 0x0BADCAFE, GATEWAY)
    assert result.gateway_id == "!deadbeef" and result.channel_id == "Jarshy"
    assert (result.hop_start, result.hop_limit, result.hops) == (3, 2, 1)
    assert result.encrypted
    assert result.as_packet() == PacketReceived(FRAME, SENDER, hops=1, hop_limit=2)


def test_uplink_with_aes128_default_and_unencrypted_channels() -> None:
    for psk in (b"k" * 16, b"\x01", b"\x00"):
        channel = ChannelKey.from_psk("Jarshy", psk)
        body = data_bytes(MAGIC + FRAME)
        if channel.encrypted:
            wire = envelope(body, key=channel.key)
        else:  # key length 0: encryptPacket leaves the bytes as they are
            packet = mesh_pb2.MeshPacket(to=BROADCAST, id=7, channel=channel.hash, encrypted=body)
            setattr(packet, "from", SENDER)
            wire = mqtt_pb2.ServiceEnvelope(
                packet=packet, channel_id="Jarshy", gateway_id="!deadbeef"
            ).SerializeToString()
        result = decode_uplink(TOPIC, wire, channel, root="msh/KZ")
        assert isinstance(result, Uplinked) and result.frame == FRAME, psk


def test_uplink_without_hop_start_says_hops_unknown() -> None:
    result = decode_uplink(TOPIC, envelope(hop_start=0, hop_limit=3), JARSHY, root="msh/KZ")
    assert isinstance(result, Uplinked) and result.hop_start is None and result.hops is None


def test_signed_data_from_a_2_8_radio_is_still_read() -> None:
    # Firmware 2.8 adds Data.xeddsa_signature (field 10), unknown to these protobufs: ignored.
    body = data_bytes(MAGIC + FRAME, bitfield=1) + b"\x52\x40" + bytes(64)
    result = decode_uplink(TOPIC, envelope(body), JARSHY, root="msh/KZ")
    assert isinstance(result, Uplinked) and result.frame == FRAME


def test_copies_from_several_gateways_are_taken_once() -> None:
    seen = SeenPackets(capacity=2)
    copies = [
        decode_uplink(f"msh/KZ/2/e/Jarshy/{gw}", envelope(gateway_id=gw), JARSHY, root="msh/KZ")
        for gw in ("!deadbeef", "!00c0ffee", "!deadbeef")
    ]
    assert all(isinstance(c, Uplinked) for c in copies)
    assert [seen.first(c) for c in copies if isinstance(c, Uplinked)] == [True, False, False]
    for ident in (1, 2):  # two other packets push the first out: bounded, oldest forgotten
        other = decode_uplink(TOPIC, envelope(packet_id=ident), JARSHY, root="msh/KZ")
        assert isinstance(other, Uplinked) and seen.first(other)
    assert len(seen) == 2
    assert isinstance(copies[0], Uplinked) and seen.first(copies[0])
    with pytest.raises(ValueError):
        SeenPackets(capacity=0)


def test_decoded_uplink_only_when_plaintext_is_allowed() -> None:
    wire = envelope(decoded=data_bytes(MAGIC + FRAME))
    assert refused(decode_uplink(TOPIC, wire, JARSHY, root="msh/KZ")) is Refusal.PLAINTEXT
    result = decode_uplink(TOPIC, wire, JARSHY, root="msh/KZ", allow_plaintext=True)
    assert isinstance(result, Uplinked) and result.frame == FRAME and not result.encrypted


REFUSALS = [
    (TOPIC, bytes(ENVELOPE_MAX + 1), Refusal.OVERSIZED),
    ("msh/KZ/2/e/Jarshy/deadbeef", envelope(), Refusal.TOPIC),
    ("msh/2/e/Jarshy/!deadbeef", envelope(), Refusal.TOPIC),
    ("msh/KZ/2/e/Jarshy/!deadbeef\x1b[2J", envelope(), Refusal.TOPIC),
    (TOPIC, b"\xff\xff\xff", Refusal.NOT_ENVELOPE),
    (TOPIC, b"hello, this is text", Refusal.NOT_ENVELOPE),
    (
        TOPIC,
        mqtt_pb2.ServiceEnvelope(channel_id="Jarshy").SerializeToString(),
        Refusal.NO_PACKET,
    ),
    (TOPIC, envelope(name="LongFast"), Refusal.CHANNEL),
    ("msh/KZ/2/e/LongFast/!deadbeef", envelope(), Refusal.CHANNEL),
    (TOPIC, envelope(gateway_id="!00000001"), Refusal.GATEWAY),
    (TOPIC, envelope(gateway_id="gateway"), Refusal.GATEWAY),
    (TOPIC, envelope(via_mqtt=True), Refusal.ECHO),
    (TOPIC, envelope(sender=BROADCAST), Refusal.SENDER),
    (TOPIC, envelope(sender=0), Refusal.SENDER),
    (TOPIC, envelope(hop_limit=8), Refusal.HOPS),
    (TOPIC, envelope(hop_start=9), Refusal.HOPS),
    (TOPIC, envelope(channel_hash=(JARSHY.hash + 1) & 0xFF), Refusal.CHANNEL_HASH),
    (TOPIC, envelope(key=bytes(32)), Refusal.CHANNEL_HASH),
    (TOPIC, envelope(data_bytes(MAGIC + FRAME, port=0)), Refusal.UNDECRYPTABLE),
    (TOPIC, envelope(b"\xff" * 40), Refusal.UNDECRYPTABLE),
    (TOPIC, envelope(plain=bytes(300)), Refusal.OVERSIZED),
    (
        TOPIC,
        envelope(data_bytes(b"hi", port=portnums_pb2.TEXT_MESSAGE_APP)),
        Refusal.OTHER_PORT,
    ),
    (TOPIC, envelope(data_bytes(b"\x00" + FRAME, port=256)), Refusal.OTHER_PORT),
    (TOPIC, envelope(data_bytes(b"not jarshy")), Refusal.NOT_JARSHY),
    (TOPIC, envelope(data_bytes(MAGIC)), Refusal.NOT_JARSHY),
    (TOPIC, envelope(data_bytes(MAGIC + bytes(FRAME_MAX + 1))), Refusal.FRAME_SIZE),
]


@pytest.mark.parametrize(
    ("topic", "wire", "reason"),
    REFUSALS,
    ids=[f"{i}-{case[2]}" for i, case in enumerate(REFUSALS)],
)
def test_refusals_name_the_reason(topic: str, wire: bytes, reason: Refusal) -> None:
    assert refused(decode_uplink(topic, wire, JARSHY, root="msh/KZ")) is reason


def test_wrong_key_with_the_same_channel_hash_is_undecryptable() -> None:
    # A key whose bytes XOR to the same value: same hash, different key (hashes collide often).
    other = bytearray(PSK)
    other[0] ^= 0x01
    other[1] ^= 0x01
    assert xor(bytes(other)) == xor(PSK)
    wire = envelope(key=bytes(other))
    assert refused(decode_uplink(TOPIC, wire, JARSHY, root="msh/KZ")) is Refusal.UNDECRYPTABLE


def test_a_packet_without_payload_is_refused() -> None:
    packet = mesh_pb2.MeshPacket(to=BROADCAST, id=9, hop_limit=1, hop_start=1)
    setattr(packet, "from", SENDER)
    wire = mqtt_pb2.ServiceEnvelope(packet=packet, channel_id="Jarshy", gateway_id="!deadbeef")
    got = decode_uplink(TOPIC, wire.SerializeToString(), JARSHY, root="msh/KZ")
    assert refused(got) is Refusal.NO_PACKET


def test_hops_are_unknown_when_hop_start_is_below_hop_limit() -> None:
    result = decode_uplink(TOPIC, envelope(hop_start=2, hop_limit=5), JARSHY, root="msh/KZ")
    assert isinstance(result, Uplinked) and result.hops is None and result.hop_limit == 5


def test_direct_packets_are_refused() -> None:
    wire = mqtt_pb2.ServiceEnvelope()
    wire.ParseFromString(envelope())
    wire.packet.to = 0x12345678
    got = decode_uplink(TOPIC, wire.SerializeToString(), JARSHY, root="msh/KZ")
    assert refused(got) is Refusal.DIRECT


def test_refusal_details_render_hostile_text_inert() -> None:
    wire = envelope(name="Jar\x1b[31m")
    got = decode_uplink("msh/KZ/2/e/Jar\x1b[31m/!deadbeef", wire, JARSHY, root="msh/KZ")
    assert refused(got) is Refusal.CHANNEL and "\\u{1b}" in str(got)


def test_a_bad_root_is_the_callers_mistake() -> None:
    with pytest.raises(ValueError, match="root"):
        decode_uplink(TOPIC, envelope(), JARSHY, root="msh/#")


def test_non_bytes_payloads_are_refused_not_raised() -> None:
    for payload in (None, "text", 42, 1.5, [1, 2]):
        got = decode_uplink(TOPIC, payload, JARSHY, root="msh/KZ")  # type: ignore[arg-type]
        assert refused(got) is Refusal.NOT_ENVELOPE
    got = decode_uplink(None, envelope(), JARSHY, root="msh/KZ")  # type: ignore[arg-type]
    assert refused(got) is Refusal.TOPIC


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.one_of(st.just(TOPIC), st.text(max_size=60)), payload=st.binary(max_size=700))
def test_arbitrary_bytes_never_raise(topic: str, payload: bytes) -> None:
    got = decode_uplink(topic, payload, JARSHY, root="msh/KZ")
    refused(got)  # random bytes are never a frame under the Jarshy key


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=0, max_value=400),
    flips=st.lists(st.tuples(st.integers(0, 399), st.integers(1, 255)), max_size=4),
)
def test_damaged_envelopes_never_raise(cut: int, flips: list[tuple[int, int]]) -> None:
    wire = bytearray(envelope()[:cut])
    for at, bits in flips:
        if at < len(wire):
            wire[at] ^= bits
    got = decode_uplink(TOPIC, bytes(wire), JARSHY, root="msh/KZ")
    assert isinstance(got, Uplinked) or refused(got)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sender=st.integers(0, 0xFFFFFFFF),
    to=st.integers(0, 0xFFFFFFFF),
    ident=st.integers(0, 0xFFFFFFFF),
    channel=st.integers(0, 0xFFFFFFFF),
    hops=st.tuples(st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF)),
    encrypted=st.binary(max_size=300),
    channel_id=st.text(max_size=20),
    gateway_id=st.text(max_size=20),
)
def test_structured_junk_envelopes_never_raise(
    sender: int,
    to: int,
    ident: int,
    channel: int,
    hops: tuple[int, int],
    encrypted: bytes,
    channel_id: str,
    gateway_id: str,
) -> None:
    packet = mesh_pb2.MeshPacket(
        to=to, id=ident, channel=channel, hop_limit=hops[0], hop_start=hops[1], encrypted=encrypted
    )
    setattr(packet, "from", sender)
    try:
        wire = mqtt_pb2.ServiceEnvelope(
            packet=packet, channel_id=channel_id, gateway_id=gateway_id
        ).SerializeToString()
    except ValueError:  # text hypothesis made that protobuf cannot hold (lone surrogates)
        return
    got = decode_uplink(TOPIC, wire, JARSHY, root="msh/KZ")
    assert isinstance(got, Uplinked) or refused(got)


# --- downlink ------------------------------------------------------------------------------------


def stock_radio_takes(topic: str, wire: bytes, radio: int, channel: ChannelKey) -> bytes:
    """What a stock radio subscribed to the Jarshy channel does with a message (MQTT.cpp
    ``onReceiveProto``, then Router.cpp ``perhapsDecode``), written out from the firmware and
    checked with the official classes: the Data payload it relays on its mesh, or AssertionError."""
    assert parse_uplink_topic(topic, root=topic.split("/2/e/")[0]) is not None
    env = mqtt_pb2.ServiceEnvelope()
    env.ParseFromString(wire)
    assert env.HasField("packet") and env.channel_id and env.gateway_id
    assert env.channel_id.lower() == channel.name.lower()  # strcasecmp, downlink enabled
    assert env.gateway_id != node_id(radio)  # not its own uplink coming back
    p = env.packet
    sender = getattr(p, "from")
    assert sender != radio and sender != BROADCAST  # isFromUs, shouldDropMqttDownlink
    assert p.hop_limit <= 7 and p.hop_start <= 7
    assert p.hop_start >= p.hop_limit  # NodeDB.cpp classifyHopStart: else INVALID, dropped
    assert p.hop_limit > 0  # NextHopRouter.cpp perhapsRebroadcast: else never on air
    assert p.WhichOneof("payload_variant") == "encrypted"  # works with encryption_enabled on or off
    assert p.channel == xor(channel.name.encode()) ^ xor(channel.key)  # decryptForHash
    data = mesh_pb2.Data()
    data.ParseFromString(ctr(channel.key, sender, p.id, p.encrypted))
    assert data.portnum != 0
    assert p.hop_start or data.HasField("bitfield")  # else pre-hop firmware: dropped post-decode
    assert p.to == BROADCAST and p.id != 0 and not p.want_ack
    return bytes(data.payload) if data.portnum == JARSHY_PORT else b""


def test_downlink_is_what_a_stock_radio_takes_and_relays() -> None:
    down = encode_downlink(FRAME, JARSHY, sender=0x4A000001, packet_id=77, root="msh/KZ")
    assert down.topic == "msh/KZ/2/e/Jarshy/!4a000001"
    assert (
        stock_radio_takes(down.topic, down.payload, radio=GATEWAY, channel=JARSHY) == MAGIC + FRAME
    )
    env = mqtt_pb2.ServiceEnvelope()
    env.ParseFromString(down.payload)
    assert (env.channel_id, env.gateway_id) == ("Jarshy", "!4a000001")
    assert (env.packet.hop_limit, env.packet.hop_start, env.packet.id) == (3, 3, 77)
    assert len(down.payload) < ENVELOPE_MAX


def test_downlink_with_a_separate_gateway_id_and_hop_limit() -> None:
    down = encode_downlink(
        bytes(FRAME_MAX), JARSHY, sender=5, packet_id=0xFFFFFFFF, gateway=GATEWAY, hop_limit=1
    )
    assert down.topic == "msh/2/e/Jarshy/!deadbeef"
    env = mqtt_pb2.ServiceEnvelope()
    env.ParseFromString(down.payload)
    assert env.gateway_id == "!deadbeef" and getattr(env.packet, "from") == 5
    assert (env.packet.hop_limit, env.packet.hop_start) == (1, 1)
    assert len(env.packet.encrypted) <= 256 and len(down.payload) < ENVELOPE_MAX


def test_a_gateways_downlink_is_not_taken_as_an_uplink() -> None:
    down = encode_downlink(FRAME, JARSHY, sender=0x4A000001, packet_id=77)
    assert refused(decode_uplink(down.topic, down.payload, JARSHY)) is Refusal.ECHO
    # a radio relays it on LoRa; a radio that hears it there never uplinks it again (via_mqtt)


def test_downlink_refuses_caller_mistakes() -> None:
    for kwargs in (
        {"sender": BROADCAST, "packet_id": 1},
        {"sender": 3, "packet_id": 1},
        {"sender": 5, "packet_id": 0},
        {"sender": 5, "packet_id": 1 << 32},
        {"sender": 5, "packet_id": 1, "hop_limit": 8},
        {"sender": 5, "packet_id": 1, "hop_limit": 0},
        {"sender": 5, "packet_id": 1, "root": "msh/#"},
    ):
        with pytest.raises(ValueError):
            encode_downlink(FRAME, JARSHY, **kwargs)
    for frame in (b"", bytes(FRAME_MAX + 1)):
        with pytest.raises(ValueError):
            encode_downlink(frame, JARSHY, sender=5, packet_id=1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frame=st.binary(min_size=1, max_size=FRAME_MAX),
    sender=st.integers(4, 0xFFFFFFFE),
    ident=st.integers(1, 0xFFFFFFFF),
    hop_limit=st.integers(1, 7),
    psk=st.sampled_from([PSK, b"k" * 16, b"\x01", b"\x00"]),
)
def test_any_frame_downlinks_and_reads_back(
    frame: bytes, sender: int, ident: int, hop_limit: int, psk: bytes
) -> None:
    channel = ChannelKey.from_psk("Jarshy", psk)
    down = encode_downlink(
        frame, channel, sender=sender, packet_id=ident, hop_limit=hop_limit, root="msh/KZ"
    )
    assert len(down.payload) <= ENVELOPE_MAX
    radio = sender ^ 1
    assert (
        stock_radio_takes(down.topic, down.payload, radio=radio, channel=channel) == MAGIC + frame
    )
    # the same packet as a stock radio that heard it on air would uplink it (via_mqtt unset)
    env = mqtt_pb2.ServiceEnvelope()
    env.ParseFromString(down.payload)
    env.packet.via_mqtt = False
    env.gateway_id = node_id(radio)
    topic = f"msh/KZ/2/e/Jarshy/{node_id(radio)}"
    got = decode_uplink(topic, env.SerializeToString(), channel, root="msh/KZ")
    assert isinstance(got, Uplinked)
    assert (got.frame, got.sender, got.packet_id, got.gateway) == (frame, sender, ident, radio)


# --- through a real mosquitto, with the per-island ACLs of docs/meshtastic-mqtt.md ----------------

ALMATY, BISHKEK = "msh/jarshy-almaty", "msh/jarshy-bishkek"
RADIO_A, RADIO_B, GATEWAY_NODE = 0xA1B2C3D4, 0xB0B0B0B0, 0x4A000001
ACL = f"""user radio-a1
topic write {ALMATY}/2/e/Jarshy/{node_id(RADIO_A)}
topic read  {ALMATY}/2/e/Jarshy/+
user radio-b1
topic write {BISHKEK}/2/e/Jarshy/{node_id(RADIO_B)}
topic read  {BISHKEK}/2/e/Jarshy/+
user gateway-1
topic read  msh/+/2/e/Jarshy/+
topic write msh/+/2/e/Jarshy/{node_id(GATEWAY_NODE)}
"""


def island_broker(directory: Path) -> Broker:
    directory.mkdir(parents=True)
    passwd = directory / "passwd"
    for n, user in enumerate(("radio-a1", "radio-b1", "gateway-1")):
        create = ["-c"] if n == 0 else []
        subprocess.run(["mosquitto_passwd", *create, "-b", str(passwd), user, "pw"], check=True)
    (directory / "acl").write_text(ACL)
    broker = Broker(directory)
    broker.extra = (
        f"listener {broker.port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {passwd}\nacl_file {directory / 'acl'}"
    )
    return broker.start()


def client(broker: Broker, user: str) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", broker.port, username=user, password="pw", identifier=user)


async def until_sentinel(c: aiomqtt.Client, sentinel: bytes) -> list[tuple[str, bytes]]:
    """Everything delivered to ``c`` up to its sentinel (one publisher's messages keep order)."""
    got: list[tuple[str, bytes]] = []
    async with asyncio.timeout(30):  # a guard against a hang, not a measurement
        async for m in c.messages:
            assert isinstance(m.payload, bytes)
            got.append((m.topic.value, m.payload))
            if m.payload == sentinel:
                return got
    raise AssertionError("no sentinel")


@pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto is not installed (.ci/run installs it)")
async def test_a_stock_radios_uplink_crosses_to_another_island_through_a_real_broker(
    tmp_path: Path,
) -> None:
    broker = island_broker(tmp_path / "broker")
    try:
        async with (
            client(broker, "gateway-1") as gateway,
            client(broker, "radio-a1") as radio_a,
            client(broker, "radio-b1") as radio_b,
        ):
            await gateway.subscribe("msh/+/2/e/Jarshy/+", qos=1)
            await radio_b.subscribe(uplink_filter("Jarshy", root=BISHKEK), qos=1)
            # Radio A uplinks a Jarshy packet, and tries what the ACLs keep off the broker.
            mine = f"{ALMATY}/2/e/Jarshy/{node_id(RADIO_A)}"
            await radio_a.publish(
                f"{ALMATY}/2/e/PKI/{node_id(RADIO_A)}", b"a direct message", qos=1
            )
            await radio_a.publish(f"{BISHKEK}/2/e/Jarshy/{node_id(RADIO_A)}", envelope(), qos=1)
            await radio_a.publish(mine, envelope(gateway_id=node_id(RADIO_A)), qos=1)
            await radio_a.publish(mine, b"sentinel A", qos=1)
            heard = await until_sentinel(gateway, b"sentinel A")
            assert [topic for topic, _ in heard] == [mine, mine]  # PKI and Bishkek were dropped
            got = decode_uplink(heard[0][0], heard[0][1], JARSHY, root=ALMATY)
            assert isinstance(got, Uplinked) and got.frame == FRAME and got.gateway == RADIO_A
            # The gateway (after the node trusted the bulletin) downlinks the frame into Bishkek.
            down = encode_downlink(
                got.frame, JARSHY, sender=GATEWAY_NODE, packet_id=1, root=BISHKEK
            )
            await gateway.publish(down.topic, down.payload, qos=1)
            await gateway.publish(down.topic, b"sentinel G", qos=1)
            delivered = await until_sentinel(radio_b, b"sentinel G")
            assert [payload for _, payload in delivered] == [down.payload, b"sentinel G"]
            relayed = stock_radio_takes(down.topic, down.payload, radio=RADIO_B, channel=JARSHY)
            assert relayed == MAGIC + FRAME
            # The gateway hears its own downlink too, and knows it for one.
            echoes = await until_sentinel(gateway, b"sentinel G")
            assert refused(decode_uplink(*echoes[0], JARSHY, root=BISHKEK)) is Refusal.ECHO
    finally:
        broker.stop()


def test_downlink_packet_ids_never_repeat_across_the_counters_wrap() -> None:
    """With the gateway's node number a packet id is the AES-CTR nonce: ids count up from a random
    start (firmware Router.cpp, generatePacketId) and wrap past 2**32-1 to 1, never to 0."""
    from meshtastic.protobuf import mqtt_pb2

    from relay.bridge.channel_crypto import ChannelKey
    from relay.bridge.meshtastic_link import MeshtasticBridge, MeshtasticSettings

    settings = MeshtasticSettings(ChannelKey.from_base64("Jarshy", base64.b64encode(bytes(16)).decode()),
                                  root="msh/KZ", downlink_roots=("msh/EU",), seed=1)  # fmt: skip
    bridge = MeshtasticBridge(settings, lambda packet: None)
    bridge._next_id = 0xFFFFFFFF - 2  # near the wrap
    for n in range(6):
        bridge.downlink(bytes([n]) * 100)  # one frame each
    ids = []
    for message in bridge.outgoing:
        envelope = mqtt_pb2.ServiceEnvelope()
        envelope.ParseFromString(message.payload)
        ids.append(envelope.packet.id)
    assert ids == [0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF, 1, 2, 3]
