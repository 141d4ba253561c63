"""The broker killed and restarted mid-run, and gateways offline for a while: nothing lost,
nothing duplicated, and the one that was away catches up when it comes back."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from relay.crypto.keys import Identity
from relay.trust import Status
from tests.bridge.conftest import MOSQUITTO, Broker, connected, gateway, mesh, needs_mosquitto
from tests.daemon.conftest import Node
from tests.helpers import news, until

pytestmark = needs_mosquitto


def publish(node: Node, author: Identity, count: int, tag: str) -> list[bytes]:
    """``count`` news bulletins published on the node, as its operator would."""
    now = int(time.time())
    idents = []
    for n in range(count):
        ident, _ = node.daemon.publish_local(news(author, f"{tag} {n}", created=now).raw)
        idents.append(ident)
    return idents


def held(node: Node, idents: list[bytes]) -> int:
    """How many of ``idents`` the node holds as trusted (each id is one row: held once)."""
    rows = [node.daemon.store.get(i) for i in idents]
    return sum(row is not None and row.status is Status.TRUSTED for row in rows)


async def test_broker_killed_and_restarted_mid_run_loses_and_duplicates_nothing(
    broker: Broker, tmp_path: Path
) -> None:
    with mesh(0x2101, 1) as a, mesh(0x3101, 1) as b:
        async with gateway(tmp_path / "a", a.addresses[0], broker.settings("gw-a")) as gw_a:
            author = gw_a.new_identity("Newsroom")
            roots = (author.public_key,)
            async with gateway(
                tmp_path / "b", b.addresses[0], broker.settings("gw-b"), roots
            ) as gw_b:
                await connected(gw_a)
                await connected(gw_b)
                bridge_a, bridge_b = gw_a.daemon.bridge, gw_b.daemon.bridge
                assert bridge_a is not None and bridge_b is not None
                before = publish(gw_a, author, 5, "before")
                await until(lambda: held(gw_b, before) == 5)

                broker.stop(signal.SIGKILL)  # no goodbye, no final save
                await until(lambda: bridge_a.state == "down" and bridge_b.state == "down")
                assert bridge_a.last_error is not None
                during = publish(gw_a, author, 5, "during")  # wait in A's outbox
                assert bridge_a.status()["queued"] == 5
                broker.start()

                await until(lambda: held(gw_b, before + during) == 10, timeout=30)
                await until(lambda: bridge_a.status()["queued"] == 0)
                assert bridge_b.state == "connected" and bridge_a.state == "connected"
                assert bridge_b.core.stats.received == 10  # each taken in once
                assert bridge_b.core.stats.rejected == 0
                assert bridge_a.core.stats.received == 0  # nothing of its own came back


async def test_a_gateway_offline_for_a_while_catches_up_and_a_new_one_gets_the_retained_set(
    broker: Broker, tmp_path: Path
) -> None:
    with mesh(0x2201, 1) as a, mesh(0x3201, 1) as b, mesh(0x4201, 1) as c:
        async with gateway(tmp_path / "a", a.addresses[0], broker.settings("gw-a")) as gw_a:
            author = gw_a.new_identity("Newsroom")
            roots = (author.public_key,)
            await connected(gw_a)
            async with gateway(
                tmp_path / "b", b.addresses[0], broker.settings("gw-b"), roots
            ) as gw_b:
                await connected(gw_b)
            # B is away (its daemon stopped); its session waits on the broker
            missed = publish(gw_a, author, 20, "missed")
            bridge_a = gw_a.daemon.bridge
            assert bridge_a is not None
            await until(lambda: bridge_a.core.stats.sent == 20)

            async with gateway(tmp_path / "b", b.addresses[0], broker.settings("gw-b")) as gw_b:
                await until(lambda: held(gw_b, missed) == 20, timeout=30)
                assert gw_b.daemon.bridge is not None
                assert gw_b.daemon.bridge.core.stats.received == 20
                assert gw_b.daemon.bridge.core.stats.duplicates == 0  # its kept session: no resend

            async with gateway(
                tmp_path / "c", c.addresses[0], broker.settings("gw-c"), roots
            ) as gw_c:
                await until(lambda: held(gw_c, missed) == 20, timeout=30)  # retained, never seen
                assert gw_c.daemon.bridge is not None
                assert gw_c.daemon.bridge.core.stats.received == 20


async def test_a_broker_not_up_yet_is_a_clear_error_and_the_outbox_waits_for_it(
    tmp_path: Path,
) -> None:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed")
    broker = Broker(tmp_path / "broker")  # its port chosen, nothing listening yet
    with mesh(0x2901, 1) as a, mesh(0x3901, 1) as b:
        async with gateway(tmp_path / "a", a.addresses[0], broker.settings("gw-a")) as gw_a:
            bridge = gw_a.daemon.bridge
            assert bridge is not None
            await until(lambda: bridge.last_error is not None)
            assert bridge.state in ("down", "connecting")
            assert bridge.last_error.startswith(f"lost or could not reach 127.0.0.1:{broker.port}")
            author = gw_a.new_identity("Newsroom")
            waiting = publish(gw_a, author, 3, "early")
            assert (await gw_a.call("status"))["bridge"]["queued"] == 3  # the daemon answers
            broker.start()
            try:
                roots = (author.public_key,)
                async with gateway(
                    tmp_path / "b", b.addresses[0], broker.settings("gw-b"), roots
                ) as gw_b:
                    await until(lambda: held(gw_b, waiting) == 3, timeout=30)
                    assert bridge.state == "connected" and bridge.last_error is None
            finally:
                broker.stop()


async def test_a_node_that_becomes_a_gateway_publishes_what_it_already_holds(
    broker: Broker, tmp_path: Path
) -> None:
    with mesh(0x2A01, 1) as a, mesh(0x3A01, 1) as b:
        async with gateway(tmp_path / "a", a.addresses[0], None) as plain:
            author = plain.new_identity("Newsroom")
            before = publish(plain, author, 4, "held before the bridge")
        async with gateway(tmp_path / "a", a.addresses[0], broker.settings("gw-a")) as gw_a:
            bridge = gw_a.daemon.bridge
            assert bridge is not None
            await until(lambda: bridge.core.stats.sent == 4)
            roots = (author.public_key,)
            async with gateway(
                tmp_path / "b", b.addresses[0], broker.settings("gw-b"), roots
            ) as gw_b:
                await until(lambda: held(gw_b, before) == 4, timeout=30)
