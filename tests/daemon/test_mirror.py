"""The phone-app mirror end to end on the simulated mesh, in process: a mirroring daemon's trusted
bulletins reach a resident's stock radio as the phone app shows them (texts, alerts, codes); the
stranger's and the forger's never do; a neighbour's mirror heard first suppresses ours; texts heard
never enter the store; `jarshy verify CODE` finds the bulletin and its verdict."""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from relay.mirror_text import codes_in, mirror_code
from relay.radio.emu_app import AppClient, AppMessage
from relay.radio.linktypes import PacketAcked
from relay.simulated import DEMO_NEWSROOM, SimulatedMesh
from relay.store import Query
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind, SafetyInfo
from relay.wire.fragments import split
from tests.daemon.conftest import Node, running


def mirroring(home: Path) -> AbstractAsyncContextManager[Node]:
    return running(home, sim_interval=0.5, mirror=True)


def newsroom(text: str, kind: Kind = Kind.NEWS, severity: str | None = None) -> bytes:
    safety = None if severity is None else SafetyInfo("flood", "met", severity, "immediate")
    content = Content(kind, DEMO_NEWSROOM.key_id, int(time.time()), text, "ru", 3600, safety=safety)
    return wire.sign(content, DEMO_NEWSROOM).raw


async def test_trusted_bulletins_reach_the_phone_app_and_codes_verify(tmp_path: Path) -> None:
    async with mirroring(tmp_path / "home") as node:
        sim = node.daemon.simulation
        assert isinstance(sim, SimulatedMesh)
        app = await asyncio.to_thread(AppClient, sim.phone_address)
        try:
            alert_id, _ = node.daemon.publish_local(
                newsroom("Уровень воды растёт, уходите выше", Kind.SAFETY, "extreme")
            )
            news_id, _ = node.daemon.publish_local(newsroom("Вода будет завтра. " * 20))
            want = {mirror_code(alert_id), mirror_code(news_id)}

            async def both() -> list[AppMessage] | None:
                got = list(app.messages)
                codes = {c for m in got for c in codes_in(m.text)}
                ends = tuple(f"{n}/{n}" for n in range(2, 9))
                news = mirror_code(news_id)  # the long news's last part, not any message's
                last = [m for m in got if news in m.text and m.text.endswith(ends)]
                return got if want <= codes and last else None

            got = await node.wait_for(both, timeout=90, every=0.2)
            store = node.daemon.store
            rows = store.query(Query(statuses=(Status.TRUSTED,), limit=1000))
            trusted = {mirror_code(r.id): r for r in rows}
            for message in got:
                assert len(message.text.encode()) <= 233 and message.channel == 0
                assert codes_in(message.text)[-1] in trusted  # never an untrusted one
            alerts = [trusted[codes_in(m.text)[-1]] for m in got if m.kind == "alert"]
            assert alert_id in {r.id for r in alerts}
            assert all(
                r.kind is Kind.SAFETY and r.severity in ("severe", "extreme") for r in alerts
            )
            parts = [m.text for m in got if mirror_code(news_id) in m.text]
            assert len(parts) > 1 and parts[0].startswith("Simulated newsroom: ")
            assert parts[-1].endswith(f"{len(parts)}/{len(parts)}")
            status = await node.call("status")
            assert status["link"]["mirror"]["bulletins"] >= 2
            assert status["link"]["health"]["state"] == "up"
            shown = await node.cli("verify", "#" + mirror_code(news_id).lower())
            assert shown.returncode == 0, shown.stderr
            assert news_id.hex()[:16] in shown.stdout and "✔ TRUSTED news" in shown.stdout
            unknown = await node.cli("verify", "AAAAAA")
            assert unknown.returncode == 1 and "no bulletin" in unknown.stderr
        finally:
            await asyncio.to_thread(app.close)


async def test_a_neighbours_mirror_heard_first_suppresses_ours(tmp_path: Path) -> None:
    async with mirroring(tmp_path / "home") as node:
        sim = node.daemon.simulation
        assert isinstance(sim, SimulatedMesh)
        raw = newsroom("Автобус №12 не ходит")
        code = mirror_code(wire.parse(raw).id)
        heard = f"Simulated newsroom: Автобус №12 не ходит #{code}"
        sim.send_text(sim.neighbours[0], heard)
        mirror = node.daemon.mirror

        async def remembered() -> bool:
            return code in mirror._heard

        await node.wait_for(remembered, timeout=30)
        before = node.daemon.store.count(Query())
        node.daemon.publish_local(raw)
        assert mirror.waiting == 0  # never queued: this neighbourhood has it
        other, _ = node.daemon.publish_local(newsroom("Автобус №7 ходит"))
        assert mirror.waiting == 1 and mirror_code(other) not in mirror._done
        assert node.daemon.store.count(Query()) == before + 2  # our two; the heard text: none


async def test_the_links_implicit_ack_marks_our_bulletin_heard(tmp_path: Path) -> None:
    async with mirroring(tmp_path / "home") as node:
        raw = newsroom("Свет дадут в 20:00")
        ident, _ = node.daemon.publish_local(raw)
        assert node.daemon.link.ack_relayed  # the link asks the firmware for implicit ACKs
        on_acked = node.daemon.link.on_acked
        assert on_acked is not None
        node.daemon.deliveries[ident].state = "sent"
        on_acked(PacketAcked(7, split(raw)[0], heard=False, error="MAX_RETRANSMIT"))
        assert node.daemon.deliveries[ident].state == "sent"  # not heard: no change
        on_acked(PacketAcked(8, split(raw)[0], heard=True))
        assert node.daemon.deliveries[ident].state == "heard"
