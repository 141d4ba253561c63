"""A hostile client on the broker: forged, junk, oversized, mislabelled and flooding messages are
all refused, what the bridge keeps stays bounded, and a trusted alert still crosses."""

from __future__ import annotations

import os
import time
from pathlib import Path

import aiomqtt

from relay.bridge.core import MAX_PAYLOAD
from relay.crypto.keys import Identity
from relay.holding import HoldLimits
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind, SafetyInfo
from tests.bridge.conftest import Broker, connected, gateway, mesh, needs_mosquitto
from tests.helpers import news, safety, until

pytestmark = needs_mosquitto

FLOOD = 1000


def forged_alert(victim: Identity, forger: Identity) -> bytes:
    """An alert in the victim's name signed by another key."""
    info = SafetyInfo("evacuation", "safety", "extreme")
    content = Content(Kind.SAFETY, victim.key_id, int(time.time()), "Leave now", "en", 3600,
                      safety=info)  # fmt: skip
    unsigned = wire.encode_unsigned(content)
    return unsigned + forger.sign(wire.SIGNING_DOMAIN + unsigned)


async def test_hostile_publisher_changes_nothing_and_a_trusted_alert_still_crosses(
    broker: Broker, tmp_path: Path
) -> None:
    with mesh(0x2301, 1) as a, mesh(0x3301, 1) as b:
        async with gateway(tmp_path / "a", a.addresses[0], broker.settings("gw-a")) as gw_a:
            newsroom = gw_a.new_identity("Newsroom")
            roots = (newsroom.public_key,)
            async with gateway(
                tmp_path / "b", b.addresses[0], broker.settings("gw-b"), roots
            ) as gw_b:
                await connected(gw_a)
                await connected(gw_b)
                bridge = gw_b.daemon.bridge
                assert bridge is not None
                forger, stranger = (
                    Identity("Forger", os.urandom(32)),
                    Identity("Stranger", os.urandom(32)),
                )
                forged = forged_alert(newsroom, forger)
                forged_id = wire.parse(forged).id
                stranger_news = news(stranger, "buy now", created=int(time.time())).raw
                prefix = "jarshy/test/g/evil/b/"
                async with aiomqtt.Client("127.0.0.1", broker.port, identifier="evil",
                                          protocol=aiomqtt.ProtocolVersion.V5) as evil:  # fmt: skip
                    await evil.publish(prefix + forged_id.hex(), forged, qos=1)
                    await evil.publish(prefix + os.urandom(8).hex(), os.urandom(300), qos=1)
                    await evil.publish(
                        prefix + os.urandom(8).hex(), b"\x01" * (MAX_PAYLOAD + 40), qos=1
                    )
                    await evil.publish(prefix + os.urandom(8).hex(), os.urandom(1 << 20), qos=1)
                    await evil.publish(
                        prefix + os.urandom(8).hex(), stranger_news, qos=1
                    )  # wrong id
                    await evil.publish("jarshy/test/g/evil/b/not-an-id", stranger_news, qos=1)
                    await evil.publish("jarshy/test/g/ev il!/b/" + "00" * 8, stranger_news, qos=1)
                    for n in range(FLOOD):  # signed by a stranger: unknown key, each one new
                        content = Content(
                            Kind.NEWS, stranger.key_id, int(time.time()) - n, "spam", "en"
                        )
                        raw = wire.sign(content, stranger).raw
                        await evil.publish(prefix + wire.parse(raw).id.hex(), raw, qos=0)
                    await until(lambda: bridge.core.stats.rejected >= FLOOD // 2, timeout=30)

                    alert = safety(newsroom, "extreme", created=int(time.time()))
                    gw_a.daemon.publish_local(alert.raw)
                    await until(lambda: gw_b.daemon.store.get(alert.id) is not None, timeout=30)

                row = gw_b.daemon.store.get(alert.id)
                assert row is not None and row.status is Status.TRUSTED and row.source == "bridge"
                assert gw_b.daemon.store.get(forged_id) is None
                stats = bridge.core.stats
                for reason in (
                    "junk",
                    "oversized",
                    "id differs from topic",
                    "topic",
                    "over budget",
                ):
                    assert stats.reasons.get(reason, 0) >= 1, (reason, stats.reasons)
                assert stats.reasons.get("refused by ingest", 0) >= 1  # the forgery
                # bounded: untrusted rows from this publisher within its quota, the bridge's state
                # within its limits, the inbound queue within its bound
                untrusted = gw_b.daemon.store.by_status((Status.UNKNOWN_KEY, Status.PENDING_KEY))
                assert len(untrusted) <= HoldLimits().rows_per_origin
                outbox, remembered, seen, publishers = bridge.core.tracked
                limits = bridge.core.limits
                assert seen <= limits.seen and publishers <= limits.publishers
                assert outbox == remembered == 0  # nothing of theirs is ever published back
                assert bridge.inbound is not None and len(bridge.inbound._queue) <= 1000
                assert stats.received >= 1 and gw_b.daemon.bridge is bridge
                assert bridge.state == "connected"
