"""Two meshes out of radio reach of each other, joined by one real mosquitto broker."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiomqtt

from relay.api_client import ApiError
from tests.bridge.conftest import Broker, connected, gateway, mesh, needs_mosquitto
from tests.daemon.conftest import PASSPHRASE, Node
from tests.helpers import safety, until

pytestmark = needs_mosquitto


async def holds(node: Node, ident: str) -> Any:
    """The node's bulletin ``ident``, or None while it does not hold it."""
    try:
        return (await node.call("get", id=ident))["bulletin"]
    except ApiError:
        return None


async def test_a_bulletin_published_on_mesh_a_is_held_by_every_node_of_mesh_b(
    broker: Broker, tmp_path: Path
) -> None:
    with mesh(0x2001, 1) as a, mesh(0x3001, 2) as b:
        async with gateway(tmp_path / "a", a.addresses[0], broker.settings("gw-a")) as gw_a:
            author = gw_a.new_identity("Newsroom")
            roots = (author.public_key,)
            async with (
                gateway(tmp_path / "b1", b.addresses[0], broker.settings("gw-b"), roots) as gw_b,
                gateway(tmp_path / "b2", b.addresses[1], None, roots) as plain_b,
            ):
                await connected(gw_a)
                await connected(gw_b)
                await gw_a.call("unlock", identity="Newsroom", passphrase=PASSPHRASE)
                sent = await gw_a.call("publish", kind="safety", text="Пожар на Абая 10. Уходите.",
                                       expires=3600, safety={"severity": "extreme", "event": "fire"})  # fmt: skip

                on_b = await gw_b.wait_for(lambda: holds(gw_b, sent["id"]))
                assert on_b["status"] == "trusted" and on_b["source"] == "bridge"
                on_b2 = await plain_b.wait_for(lambda: holds(plain_b, sent["id"]), timeout=60)
                assert on_b2["status"] == "trusted" and on_b2["source"] == "radio"

                status_a, status_b = await gw_a.call("status"), await gw_b.call("status")
                assert status_a["bridge"]["state"] == "connected"
                assert status_a["bridge"]["sent"] == 1 and status_a["bridge"]["queued"] == 0
                assert status_b["bridge"]["received"] == 1 and status_b["bridge"]["sent"] == 0
                assert status_b["bridge"]["url"] == f"mqtt://127.0.0.1:{broker.port}/test"
                assert (await plain_b.call("status"))["bridge"] is None


async def test_retained_with_the_remaining_lifetime_and_mqtt_3_1_1_works_too(
    broker: Broker, tmp_path: Path
) -> None:
    with mesh(0x2801, 1) as a, mesh(0x3801, 1) as b:
        v3 = broker.settings("gw-a", protocol=3)
        async with gateway(tmp_path / "a", a.addresses[0], v3) as gw_a:
            author = gw_a.new_identity("Newsroom")
            roots = (author.public_key,)
            b_v3 = broker.settings("gw-b", protocol=3)
            async with gateway(tmp_path / "b", b.addresses[0], b_v3, roots) as gw_b:
                await connected(gw_a)
                await connected(gw_b)
                alert = safety(author, "severe", created=int(time.time()), lifetime=600)
                gw_a.daemon.publish_local(alert.raw)
                await until(lambda: gw_b.daemon.store.get(alert.id) is not None, timeout=30)
                assert gw_a.daemon.bridge is not None
                assert gw_a.daemon.bridge.core.stats.reasons == {}  # its own came back: skipped
        # what the broker keeps: retained, on the gateway's prefix, the bulletin's own bytes
        # (published again over MQTT 5 by a new gateway A2 with the same bulletin)
        async with gateway(tmp_path / "a2", a.addresses[0], broker.settings("gw-a2"), roots) as a2:
            a2.daemon.publish_local(alert.raw)
            assert a2.daemon.bridge is not None
            await until(lambda: a2.daemon.bridge.core.stats.sent == 1)  # type: ignore[union-attr]
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, protocol=aiomqtt.ProtocolVersion.V5
        ) as reader:
            await reader.subscribe(f"jarshy/test/g/gw-a2/b/{alert.id.hex()}", qos=1)
            async with asyncio.timeout(10):
                message = await anext(aiter(reader.messages))
        assert message.retain and message.payload == alert.raw
        assert message.properties is not None
        assert 0 < message.properties.MessageExpiryInterval <= 600
