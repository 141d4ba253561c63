"""Mirror benchmark: what the phone-app mirror (issue 12) costs in airtime, and whom it reaches.

Each scenario runs twice on the simulator with the same seed: whole Jarshy node cores (the
``jarshy`` engine) with the mirror off (the baseline), then with the mirror on at the scenario's
ROUTER/ROUTER_LATE/CLIENT_BASE nodes plus a seeded share of the others (``--mirror-share``, the
rooftop relays and gateways of a real deployment). It prints total airtime as a ratio to the
baseline and, for every mirrored safety alert (every 5th scenario item becomes an extreme alert),
the share of the non-mirroring Jarshy nodes' radios whose phone app showed all its parts, among
those that held the signed alert itself (the sync engine's delivery: 100 % of the oracle's
reachable set in these scenarios). The simulator attaches engines to Jarshy nodes only, so the
plain radios' apps are counted through the Jarshy radios' apps (same radio, same packets).

How the mirror rides the simulator: the simulator carries Jarshy's port only, so a mirror message
travels as a Jarshy-port packet whose payload is a marker byte and the text (the same bytes on air
as a TEXT_MESSAGE_APP packet, give or take the port number's varint); receiving nodes hand it to
their mirror (suppression) and to the "app" tally, never to the node core. The decisions are
relay.node.mirror's, the texts relay.mirror_text's: the same code the daemon runs.

``python bench/mirror.py [--json] [--scenarios city-200,mixed] [--seed 1] [--mirror-share 0.1]
[--hop-limit 3]``
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from relay.mirror_text import MirrorSource, codes_in  # noqa: E402
from relay.node.core import BulletinHeld, Output, VerdictChanged  # noqa: E402
from relay.node.mirror import Mirror, MirrorOffer, MirrorPort  # noqa: E402
from relay.node.sim_node import EPOCH, JarshySimNode  # noqa: E402
from relay.sim import Simulation, build_report, load_scenario  # noqa: E402
from relay.sim.engines import EngineContext  # noqa: E402
from relay.sync.events import PacketReceived, SendPacket  # noqa: E402
from relay.trust import Status  # noqa: E402
from relay.vocabulary import KIND_NAMES  # noqa: E402

HOP_LIMIT = 3  # the firmware's default, which the daemon's texts leave with (--hop-limit)
MARK = b"\xfe"  # never the first byte of a Jarshy frame: a mirror message in the simulator
ALERT_EVERY = 5  # scenario items that become extreme safety alerts (the rest stay news)
MIRROR_ROLES = ("ROUTER", "ROUTER_LATE", "CLIENT_BASE")


class Tally:
    """Who heard which mirror message, and which alerts were mirrored."""

    def __init__(self) -> None:
        self.parts: dict[str, int] = {}  # code -> parts
        self.alerts: set[str] = set()
        self.heard: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        self.mirrors: set[int] = set()
        self.sent: dict[int, int] = defaultdict(int)  # node -> mirror messages sent
        self.held: dict[bytes, set[int]] = defaultdict(set)  # alert id -> nodes holding it


class MirrorSimNode(JarshySimNode):
    """A simulated Jarshy node whose radio also shows texts to a phone app, and may mirror."""

    def __init__(self, ctx: EngineContext, tally: Tally, mirroring: bool, hop_limit: int) -> None:
        super().__init__(ctx)
        self.num = ctx.num
        self.hop_limit = hop_limit
        self.tally = tally
        self.mirror = Mirror(seed=ctx.num, enabled=mirroring)
        if mirroring:
            tally.mirrors.add(ctx.num)
        self._now = 0.0

    def _carry_out(self, output: Output) -> list[SendPacket]:
        for notice in output.notices:
            if isinstance(notice, BulletinHeld | VerdictChanged):
                self._offer(notice.id)
        return super()._carry_out(output) + self._mirror_sends()

    def _offer(self, ident: bytes) -> None:
        row = self.store.get(ident)
        if row is None or row.status is not Status.TRUSTED:
            return
        if row.severity in ("severe", "extreme"):
            self.tally.held[ident].add(self.num)
        kind = KIND_NAMES[int(row.kind)]
        source = MirrorSource(row.id, kind, row.signer_name or "", row.text, row.lang, row.ref)
        expires = None if row.expires_at is None else row.expires_at - EPOCH
        self.mirror.offer(MirrorOffer(source, True, expires, row.severity), self._now)

    def _mirror_sends(self) -> list[SendPacket]:
        out = []
        for send in self.mirror.tick(self._now):
            self.tally.parts[send.code] = send.parts
            if send.port is MirrorPort.ALERT:
                self.tally.alerts.add(send.code)
            self.tally.sent[self.num] += 1
            out.append(SendPacket(MARK + send.text.encode(), self.hop_limit, send.priority))
        return out

    def receive(self, event: PacketReceived, now: float) -> list[SendPacket]:
        self._now = now
        if event.payload[:1] == MARK:
            text = event.payload[1:].decode("utf-8", errors="replace")
            codes = codes_in(text)
            if codes:
                part = text.rsplit(" ", 1)[-1]
                index = int(part.split("/")[0]) if "/" in part else 1
                self.tally.heard[codes[-1]][self.num].add(index)
            self.mirror.heard(text, now)
            return self._mirror_sends()
        return super().receive(event, now)

    def tick(self, now: float) -> list[SendPacket]:
        self._now = now
        return super().tick(now)

    def next_deadline(self) -> float | None:
        times = [t for t in (super().next_deadline(), self.mirror.next_deadline()) if t is not None]
        return min(times) if times else None


def run(
    name: str, seed: int, share: float, mirror_on: bool, hop_limit: int = HOP_LIMIT
) -> tuple[dict[str, Any], Tally]:
    tally = Tally()
    pick = random.Random(f"mirror:{seed}")

    def factory(ctx: EngineContext) -> MirrorSimNode:
        mirroring = mirror_on and (ctx.role in MIRROR_ROLES or pick.random() < share)
        return MirrorSimNode(ctx, tally, mirroring, hop_limit)

    base = load_scenario(name, seed=seed)
    traffic = tuple(  # every ALERT_EVERY-th item an extreme safety alert: the mirror's ALERT_APP
        replace(p, kind="safety") if i % ALERT_EVERY == 0 else p for i, p in enumerate(base.traffic)
    )
    start = time.perf_counter()
    result = Simulation(replace(base, traffic=traffic), factory, seed=seed).run()
    summary = build_report(result).summary
    return {
        "airtime_s": summary["airtime_s"]["total"],
        "delivery": summary["delivery"]["ratio"],
        "wall_s": round(time.perf_counter() - start, 1),
    }, tally


def alert_reach(tally: Tally) -> list[dict[str, Any]]:
    """For each mirrored alert: the share of non-mirroring radios holding the signed alert whose
    app showed all its parts, and the share of all non-mirroring radios that did."""
    rows = []
    for ident, holders in tally.held.items():
        code = next((c for c in tally.alerts if c == _code(ident)), None)
        if code is None:
            continue
        parts = tally.parts[code]
        whole = {n for n, got in tally.heard[code].items() if len(got) >= parts}
        readers = holders - tally.mirrors
        rows.append({
            "code": code, "parts": parts,
            "reached_of_holders": round(len(whole & readers) / max(1, len(readers)), 3),
            "radios_reached": len(whole - tally.mirrors),
        })  # fmt: skip
    return rows


def _code(ident: bytes) -> str:
    from relay.mirror_text import mirror_code

    return mirror_code(ident)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="city-200,mixed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mirror-share", type=float, default=0.1)
    parser.add_argument("--hop-limit", type=int, default=HOP_LIMIT, help="of mirror messages")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for name in args.scenarios.split(","):
        off, _ = run(name, args.seed, args.mirror_share, False)
        on, tally = run(name, args.seed, args.mirror_share, True, args.hop_limit)
        reach = alert_reach(tally)
        rows.append({
            "scenario": name, "seed": args.seed, "hop_limit": args.hop_limit,
            "mirror_off": off, "mirror_on": on,
            "airtime_ratio_on_vs_off": round(on["airtime_s"] / off["airtime_s"], 3)
            if off["airtime_s"] else None,
            "mirroring_nodes": len(tally.mirrors), "mirror_messages": sum(tally.sent.values()),
            "bulletins_mirrored": len(tally.parts), "alerts_mirrored": len(tally.alerts),
            "alert_reach": reach,
            "alert_reach_min": min((r["reached_of_holders"] for r in reach), default=None),
        })  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for r in rows:
        print(
            f"{r['scenario']:>10} seed {r['seed']}: airtime mirror on / off = "
            f"{r['airtime_ratio_on_vs_off']} ({r['mirror_on']['airtime_s']:.0f} s / "
            f"{r['mirror_off']['airtime_s']:.0f} s); {r['mirroring_nodes']} mirroring nodes sent "
            f"{r['mirror_messages']} messages for {r['bulletins_mirrored']} bulletins; "
            f"{r['alerts_mirrored']} alerts mirrored, worst share of alert holders whose app "
            f"showed it whole: {r['alert_reach_min']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
