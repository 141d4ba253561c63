"""A Jarshy gateway and stock Meshtastic radios on MQTT: envelopes a radio uplinks (built with the
official protobuf classes, encrypted with the channel key as the firmware does) are taken in as
packets its own radio heard; trusted bulletins go down to another island's root as envelopes."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from pathlib import Path

import aiomqtt
from meshtastic.protobuf import mesh_pb2, mqtt_pb2

from relay.bridge.channel_crypto import ChannelKey
from relay.bridge.meshtastic_link import MeshtasticSettings
from relay.radio.framing import JARSHY_PORT, unwrap, wrap
from relay.trust import Status
from relay.wire.fragments import split
from tests.bridge.conftest import Broker, connected, gateway, mesh, needs_mosquitto
from tests.helpers import news, safety, until

pytestmark = needs_mosquitto

PSK = os.urandom(16)
CHANNEL = ChannelKey.from_psk("Jarshy", PSK)
RADIO = 0x1234ABCD  # a stock radio with Wi-Fi in island A, uplink on


def uplink(frame: bytes, packet_id: int, sender: int = 0x0BAD0001) -> tuple[str, bytes]:
    """What a stock radio publishes for a Jarshy packet it heard (MQTT.cpp onSend)."""
    data = mesh_pb2.Data(portnum=JARSHY_PORT, payload=wrap(frame))
    packet = mesh_pb2.MeshPacket(**{"from": sender}, to=0xFFFFFFFF, id=packet_id, channel=CHANNEL.hash,
                                 encrypted=CHANNEL.crypt(sender, packet_id, data.SerializeToString()),
                                 hop_limit=2, hop_start=3)  # fmt: skip
    envelope = mqtt_pb2.ServiceEnvelope(
        packet=packet, channel_id="Jarshy", gateway_id=f"!{RADIO:08x}"
    )
    return f"msh/island-a/2/e/Jarshy/!{RADIO:08x}", envelope.SerializeToString()


async def test_stock_radio_uplinks_are_taken_in_and_trusted_bulletins_go_down(
    broker: Broker, tmp_path: Path
) -> None:
    settings = MeshtasticSettings(CHANNEL, "msh/island-a", ("msh/island-b",), 0x4A0000FE, seed=1)
    bridge = replace(broker.settings("gw-a"), meshtastic=settings)
    with mesh(0x2601, 1) as a:
        async with gateway(tmp_path / "a", a.addresses[0], bridge) as gw:
            author = gw.new_identity("Newsroom")
            gw.daemon.ingest.add_root(author.public_key, "Newsroom", gw.daemon.wall())
            await connected(gw)
            downlinks: list[bytes] = []
            async with aiomqtt.Client(
                "127.0.0.1", broker.port, identifier="island-b-radio"
            ) as radio_b:
                await radio_b.subscribe("msh/island-b/2/e/Jarshy/+", qos=1)

                async def listen() -> None:
                    async for message in radio_b.messages:
                        downlinks.append(bytes(message.payload))  # type: ignore[arg-type]

                listener = asyncio.create_task(listen())
                alert = safety(author, "extreme", created=int(time.time()))
                async with aiomqtt.Client(
                    "127.0.0.1", broker.port, identifier="radio-a"
                ) as radio_a:
                    frames = split(alert.raw)
                    for n, frame in enumerate(frames):  # uplinked twice: two radios heard it
                        for _copy in range(2):
                            await radio_a.publish(*uplink(frame, 0x100 + n), qos=1)
                    await radio_a.publish(f"msh/island-a/2/e/Jarshy/!{RADIO:08x}", b"junk", qos=1)
                await until(lambda: gw.daemon.store.get(alert.id) is not None, timeout=30)
                row = gw.daemon.store.get(alert.id)
                assert row is not None and row.status is Status.TRUSTED and row.source == "radio"
                assert row.hops == 1  # the envelope's hop_start - hop_limit
                status = (await gw.call("status"))["bridge"]["meshtastic"]
                assert status["taken"] == len(frames) and status["copies"] == len(frames)
                assert status["refused"] == {"not-envelope": 1}

                # a bulletin of this mesh goes down into island B (and over the bridge)
                local = news(author, "Вода завтра", created=int(time.time()))
                gw.daemon.publish_local(local.raw)
                expected = len(split(local.raw)) + len(frames)  # the alert is trusted, ours too
                await until(lambda: len(downlinks) >= expected, timeout=30)
                listener.cancel()
            carried = set()
            for payload in downlinks:
                envelope = mqtt_pb2.ServiceEnvelope.FromString(payload)
                packet = envelope.packet
                assert envelope.gateway_id == "!4a0000fe" and packet.via_mqtt
                data = mesh_pb2.Data.FromString(CHANNEL.crypt(getattr(packet, "from"), packet.id,
                                                              packet.encrypted))  # fmt: skip
                assert data.portnum == JARSHY_PORT
                frame = unwrap(data.payload)
                assert frame is not None
                carried.add(frame)
            assert set(split(local.raw)) <= carried
