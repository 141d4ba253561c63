"""Scaling beyond one machine: gateways on two brokers joined by a mosquitto bridge (a city's
broker forwarding the network's topics to a national one), as docs/bridge.md §5 configures it."""

from __future__ import annotations

import time
from pathlib import Path

from tests.bridge.conftest import MOSQUITTO, Broker, connected, gateway, mesh, needs_mosquitto
from tests.helpers import news, until

pytestmark = needs_mosquitto


async def test_gateways_on_two_bridged_brokers_exchange_bulletins(tmp_path: Path) -> None:
    assert MOSQUITTO is not None
    national = Broker(tmp_path / "national").start()
    city = Broker(tmp_path / "city")
    city.extra = (
        f"listener {city.port} 127.0.0.1\nallow_anonymous true\n"
        f"connection to-national\naddress 127.0.0.1:{national.port}\n"
        "bridge_protocol_version mqttv50\ncleansession false\ntopic jarshy/test/g/# both 1\n"
    )
    city.start()
    try:
        with mesh(0x2701, 1) as a, mesh(0x3701, 1) as b, mesh(0x4701, 1) as c:
            async with gateway(tmp_path / "a", a.addresses[0], city.settings("gw-a")) as gw_a:
                author = gw_a.new_identity("Newsroom")
                roots = (author.public_key,)
                async with gateway(
                    tmp_path / "b", b.addresses[0], national.settings("gw-b"), roots
                ) as gw_b:
                    await connected(gw_a)
                    await connected(gw_b)
                    east = news(author, "from the city", created=int(time.time()))
                    gw_a.daemon.publish_local(east.raw)
                    await until(lambda: gw_b.daemon.store.get(east.id) is not None, timeout=30)
                    west = news(author, "from the nation", created=int(time.time()))
                    gw_b.daemon.publish_local(west.raw)
                    await until(lambda: gw_a.daemon.store.get(west.id) is not None, timeout=30)
                # a new gateway on the national broker gets the retained set of both
                async with gateway(
                    tmp_path / "c", c.addresses[0], national.settings("gw-c"), roots
                ) as gw_c:
                    await until(lambda: all(gw_c.daemon.store.get(i) is not None
                                            for i in (east.id, west.id)), timeout=30)  # fmt: skip
                    assert gw_c.daemon.bridge is not None
                    assert gw_c.daemon.bridge.core.stats.received == 2
    finally:
        city.stop()
        national.stop()
