"""Bridge benchmark: two meshes joined by a real mosquitto, measured against baselines of the run.

Gateway A and gateway B are whole daemons (relay.daemon) on emulated radios of two separate
meshes, bridged through a mosquitto started here (temporary config, free loopback port, $SYS
statistics every second). Figures:

- throughput: bulletins per second from A's publish to B's store (verified, judged, stored and
  queued for B's radio), as a ratio to the raw PyNaCl verify rate of the same bulletins;
- latency: A's publish to B's store, one bulletin at a time: median and p99 (ms);
- broker bytes per bulletin (everything the broker received and sent, MQTT headers, topics,
  acknowledgements and all, for one publisher and one subscriber) ÷ the bulletin's own size;
- catch-up: the broker bytes a gateway that missed 50 bulletins costs when it comes back, from
  its kept session and (a new gateway) from the retained set, ÷ the 50 bulletins' own size.

``python bench/bridge.py [--json] [--count 300] [--latency 100]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402
from nacl.signing import VerifyKey  # noqa: E402

from relay.bridge.core import BridgeCore, BridgeLimits, Budget, Take  # noqa: E402
from relay.crypto.keys import Identity  # noqa: E402
from relay.wire import bulletin as wire  # noqa: E402
from tests.bridge.conftest import MOSQUITTO, Broker, connected, gateway, mesh  # noqa: E402
from tests.daemon.conftest import Node  # noqa: E402
from tests.helpers import news  # noqa: E402

MISSED = 50
TEXT = "Вода будет завтра с 9:00 до 12:00 на Абая и Сатпаева. Су ертең 9:00-ден 12:00-ге дейін."


def bulletins(author: Identity, count: int, tag: str) -> list[wire.Bulletin]:
    now = int(time.time())
    return [news(author, f"{TEXT} {tag}{n}", created=now, lifetime=86400) for n in range(count)]


def verify_rate(items: list[wire.Bulletin], author: Identity) -> float:
    """Raw Ed25519 verifications per second (PyNaCl) over the bulletins' signed bytes."""
    key = VerifyKey(author.public_key)
    signed = [(wire.SIGNING_DOMAIN + b.raw[: -wire.SIGNATURE_LEN], b.raw[-wire.SIGNATURE_LEN :])
              for b in items]  # fmt: skip
    rounds, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        for message, signature in signed:
            key.verify(message, signature)
        rounds += 1
    return rounds * len(signed) / (time.perf_counter() - start)


def checks_rate(items: list[wire.Bulletin]) -> float:
    """The bridge core's own checks per second (topic, size, budget, dedupe, parse, id) on
    fresh messages: what the bridge adds before the node's ingest."""
    unlimited = Budget(1e9, 1e9)
    limits = BridgeLimits(stranger=unlimited, strangers=unlimited, seen=1)
    messages = [(f"jarshy/test/g/gw-a/b/{b.id.hex()}", b.raw) for b in items]
    rounds, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        core = BridgeCore("test", "gw-b", limits)
        for topic, payload in messages:
            core.received(topic, payload, 0.0)
        rounds += 1
    return rounds * len(messages) / (time.perf_counter() - start)


class SysBytes:
    """The broker's own byte counters ($SYS/broker/bytes/received and /sent)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.values: dict[str, int] = {}
        self.updates = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SysBytes:
        ready = asyncio.Event()

        async def listen() -> None:
            async with aiomqtt.Client("127.0.0.1", self.port, identifier="bench-sys") as client:
                await client.subscribe("$SYS/broker/bytes/#")
                ready.set()
                async for message in client.messages:
                    self.values[str(message.topic)] = int(bytes(message.payload))  # type: ignore[arg-type]
                    self.updates += 1

        self._task = asyncio.create_task(listen())
        await ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    async def total(self) -> int:
        """Received + sent so far: two whole rounds of the broker's reports (one a second, two
        topics each) from now, so that neither the retained values nor a report computed
        before this call is taken."""
        seen = self.updates
        while self.updates < seen + 4:
            await asyncio.sleep(0.05)
        return sum(self.values.values())


async def wait(predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def held(node: Node, items: list[wire.Bulletin]) -> int:
    return sum(node.daemon.store.get(b.id) is not None for b in items)


def new_broker(directory: Path) -> Broker:
    broker = Broker(directory)
    broker.extra = f"listener {broker.port} 127.0.0.1\nallow_anonymous true\nsys_interval 1"
    return broker.start()


async def run(count: int, latency_n: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="jarshy-bench-bridge-"))
    out: dict[str, Any] = {}
    broker = new_broker(tmp / "broker")
    try:
        with mesh(0x5001, 1) as a, mesh(0x6001, 1) as b, mesh(0x7001, 1) as c:
            async with gateway(tmp / "a", a.addresses[0], broker.settings("gw-a")) as gw_a:
                author = gw_a.new_identity("Newsroom")
                roots = (author.public_key,)
                async with (
                    gateway(tmp / "b", b.addresses[0], broker.settings("gw-b"), roots) as gw_b,
                    SysBytes(broker.port) as counters,
                ):
                    await connected(gw_a)
                    await connected(gw_b)
                    out.update(await crossing(gw_a, gw_b, author, counters, count, latency_n))
                settings = broker.settings("gw-c")
                async with gateway(tmp / "c", c.addresses[0], settings, roots) as gw_c:
                    out.update(await intake(gw_c, gw_b))
    finally:
        broker.stop()
    broker = new_broker(tmp / "broker-catchup")
    try:
        out.update(await catch_up(broker, tmp / "catchup"))
    finally:
        broker.stop()
    return out


async def crossing(
    gw_a: Node, gw_b: Node, author: Identity, counters: SysBytes, count: int, latency_n: int
) -> dict[str, Any]:
    """Latency one at a time, then throughput and broker bytes of a batch, A -> B."""
    out: dict[str, Any] = {}
    bridge_b = gw_b.daemon.bridge
    assert bridge_b is not None
    arrived: dict[bytes, float] = {}
    judge = bridge_b.judge

    def timed(take: Take) -> tuple[str, bool]:
        result = judge(take)
        arrived.setdefault(take.ident, time.perf_counter())
        return result

    bridge_b.judge = timed
    warm = bulletins(author, 5, "warm")
    for item in warm:
        gw_a.daemon.publish_local(item.raw)
    await wait(lambda: all(item.id in arrived for item in warm))

    latencies = []
    for item in bulletins(author, latency_n, "lat"):
        start = time.perf_counter()
        gw_a.daemon.publish_local(item.raw)
        await wait(lambda i=item.id: i in arrived)  # type: ignore[misc]
        latencies.append((arrived[item.id] - start) * 1000)
    latencies.sort()
    out["latency_median_ms"] = round(statistics.median(latencies), 2)
    out["latency_p99_ms"] = round(latencies[int(0.99 * (len(latencies) - 1))], 2)

    batch = bulletins(author, count, "tp")
    before = await counters.total()
    start = time.perf_counter()
    for item in batch:
        gw_a.daemon.publish_local(item.raw)
    last = batch[-1].id
    await wait(lambda: last in arrived and all(item.id in arrived for item in batch))
    elapsed = max(arrived[item.id] for item in batch) - start
    after = await counters.total()
    assert held(gw_b, batch) == count
    size = statistics.mean(len(item.raw) for item in batch)
    rate, raw_verify = count / elapsed, verify_rate(batch, author)
    out["checks_per_s"] = round(checks_rate(batch))
    out["checks_vs_verify"] = round(out["checks_per_s"] / raw_verify, 2)
    out["bulletins_per_s"] = round(rate, 1)
    out["raw_verify_per_s"] = round(raw_verify)
    out["throughput_vs_verify"] = round(rate / raw_verify, 4)
    out["bulletin_bytes"] = round(size, 1)
    out["broker_bytes_per_bulletin"] = round((after - before) / count, 1)
    out["broker_bytes_vs_bulletin"] = round((after - before) / count / size, 2)
    return out


async def intake(late: Node, gw_b: Node) -> dict[str, Any]:
    """A new gateway takes in the whole retained set at once: its rate from the first bulletin
    taken in to the last (verify, judge, store in batches, queue for its radio)."""
    bridge = late.daemon.bridge
    assert bridge is not None
    arrived: list[float] = []
    judge = bridge.judge

    def timed(take: Take) -> tuple[str, bool]:
        result = judge(take)
        arrived.append(time.perf_counter())
        return result

    bridge.judge = timed
    assert gw_b.daemon.bridge is not None
    expected = gw_b.daemon.bridge.core.stats.received  # what A has published, all retained
    await wait(lambda: bridge.core.stats.received >= expected)
    rate = (len(arrived) - 1) / (arrived[-1] - arrived[0])
    return {"intake_per_s": round(rate, 1), "intake_bulletins": len(arrived)}


async def catch_up(broker: Broker, tmp: Path) -> dict[str, Any]:
    """On a fresh broker: B and C away while A publishes 50; B comes back to its kept session,
    C (new) gets the retained set; the broker's bytes for each, against the bulletins' size."""
    out: dict[str, Any] = {}
    with mesh(0x5101, 1) as a, mesh(0x6101, 1) as b, mesh(0x7101, 1) as c:
        async with gateway(tmp / "a", a.addresses[0], broker.settings("gw-a")) as gw_a:
            author = gw_a.new_identity("Newsroom")
            roots = (author.public_key,)
            async with gateway(tmp / "b", b.addresses[0], broker.settings("gw-b"), roots) as gw_b:
                await connected(gw_a)
                await connected(gw_b)
            missed = bulletins(author, MISSED, "missed")
            for item in missed:
                gw_a.daemon.publish_local(item.raw)
            bridge_a = gw_a.daemon.bridge
            assert bridge_a is not None
            await wait(lambda: bridge_a.core.queued == 0)
            own = sum(len(item.raw) for item in missed)
            async with SysBytes(broker.port) as counters:
                for name, home, address in (("session", tmp / "b", b.addresses[0]),
                                            ("retained", tmp / "c", c.addresses[0])):  # fmt: skip
                    before = await counters.total()
                    settings = broker.settings("gw-b" if name == "session" else "gw-c")
                    async with gateway(home, address, settings, roots) as late:
                        await wait(lambda n=late: held(n, missed) == MISSED)  # type: ignore[misc]
                        after = await counters.total()
                    out[f"catchup_{name}_bytes"] = after - before
                    out[f"catchup_{name}_vs_own"] = round((after - before) / own, 2)
            out["catchup_own_bytes"] = own
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--count", type=int, default=300, help="bulletins for the throughput")
    parser.add_argument("--latency", type=int, default=100, help="bulletins for the latency")
    args = parser.parse_args()
    if MOSQUITTO is None:
        print("mosquitto is not installed (apt-get install mosquitto)", file=sys.stderr)
        return 2
    figures = asyncio.run(run(args.count, args.latency))
    figures["intake_vs_verify"] = round(figures["intake_per_s"] / figures["raw_verify_per_s"], 4)
    if args.json:
        print(json.dumps(figures))
        return 0
    f = figures
    print("Bridge between two meshes through one mosquitto: daemon A -> broker -> daemon B,")
    print("both daemons in this one process (one core), each store durable (SQLite, fsync)")
    tp, vs, raw = f["bulletins_per_s"], f["throughput_vs_verify"], f["raw_verify_per_s"]
    print(f"  end to end     {tp:>9} bulletins/s = {vs:.4f} x raw verify ({raw}/s)")
    print(f"  intake         {f['intake_per_s']:>9} bulletins/s = {f['intake_vs_verify']:.4f} x raw"
          f" verify (a new gateway taking {f['intake_bulletins']} retained at once)")  # fmt: skip
    checks, vs = f["checks_per_s"], f["checks_vs_verify"]
    print(f"  bridge checks  {checks:>9} messages/s = {vs} x raw verify (the core's checks alone)")
    print(f"  latency        median {f['latency_median_ms']} ms, p99 {f['latency_p99_ms']} ms")
    print(f"  broker bytes   {f['broker_bytes_per_bulletin']} B per bulletin = "
          f"{f['broker_bytes_vs_bulletin']} x the bulletin ({f['bulletin_bytes']} B)")  # fmt: skip
    print(f"  catch-up of {MISSED} missed ({f['catchup_own_bytes']} B of bulletins):")
    print(f"    kept session {f['catchup_session_bytes']} B = {f['catchup_session_vs_own']} x")
    print(f"    new gateway  {f['catchup_retained_bytes']} B = {f['catchup_retained_vs_own']} x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
