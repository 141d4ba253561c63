"""Two meshes out of radio reach of each other, joined by one real mosquitto broker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relay.api_client import ApiError
from tests.bridge.conftest import Broker, connected, gateway, mesh, needs_mosquitto
from tests.daemon.conftest import PASSPHRASE, Node

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
