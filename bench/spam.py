"""Spam-brake benchmark: a trusted extreme alert sent while a flood hits a node at N× capacity.

The pure sync engine (relay.sync.engine.SyncEngine) judging with MemoryJudge, in virtual time: a
neighbour (a radio the victim never heard before) publishes a fragmented extreme safety alert by
the trusted newsroom, whose key the victim knows from a bulletin it holds; meanwhile the victim
hears a flood whose airtime is ``--factor`` times what the LongFast channel can carry: junk
fragments with random ids and, alternately, bulletins forged in the newsroom's name and valid
bulletins by unknown keys, every frame from a new ``from`` number (the per-radio brake never
trips).  Every figure is a ratio against a baseline from the same run:

  * the alert's delivery latency (publication -> held by the victim) under attack ÷ the same run
    without the flood (and the same with the untrusted budget switched off);
  * the reassembler's memory peak ÷ its bound, in fragment bytes and in sets;
  * process CPU time per flooded frame ÷ one Ed25519 verify (PyNaCl) on this machine, with the
    untrusted budget and without it.

Run ``python bench/spam.py [--json] [--factor N] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nacl.signing  # noqa: E402

from relay.crypto.keys import Identity  # noqa: E402
from relay.lora import packet_airtime  # noqa: E402
from relay.sync.engine import SyncConfig, SyncEngine  # noqa: E402
from relay.sync.events import PacketReceived, SendPacket  # noqa: E402
from relay.sync.judge import MemoryJudge, receive_judged  # noqa: E402
from relay.trust import TrustState  # noqa: E402
from relay.wire import bulletin as wire  # noqa: E402
from relay.wire.fields import Content, Kind, SafetyInfo  # noqa: E402
from relay.wire.fragments import FRAGMENT_BYTE  # noqa: E402

T0 = 1_767_225_600.0
NEWSROOM = Identity("Newsroom", bytes(range(32)))
MALLORY = Identity("Mallory", bytes(range(1, 33)))
VICTIM, NEIGHBOUR = 0x1001, 0x4444
ALERT_AT = 60.0  # seconds into the flood
INFO = SafetyInfo("flood", "met", "extreme", "immediate", "observed", "Medeu district")


def alert_bulletin() -> bytes:
    rng = random.Random(1)
    text = " ".join(str(rng.randrange(10**6)) for _ in range(120))  # three fragments + repair
    content = Content(
        Kind.SAFETY, NEWSROOM.key_id, int(T0 + ALERT_AT), text, "en", lifetime=7200, safety=INFO
    )
    return wire.sign(content, NEWSROOM).raw


def flood_frames(count: int, seed: int) -> list[bytes]:
    """Distinct frames (no cache can answer them): junk fragments, forgeries, unknown keys."""
    rng = random.Random(seed)
    strangers = [Identity(f"s{i}", rng.randbytes(32)) for i in range(16)]
    out: list[bytes] = []
    for i in range(count):
        created = int(T0) + i
        if i % 2 == 0:
            total = rng.randrange(2, 5)
            index = rng.randrange(total)  # data fragments of a plausible size: they all parse
            out.append(
                bytes([FRAGMENT_BYTE])
                + rng.randbytes(8)
                + bytes([total, index])
                + rng.randbytes(200)
            )
        elif i % 4 == 1:  # forged in the newsroom's name: costs a signature check to refuse
            content = Content(Kind.NEWS, NEWSROOM.key_id, created, f"forged {i} " * 6, "en")
            unsigned = wire.encode_unsigned(content)
            out.append(unsigned + MALLORY.sign(wire.SIGNING_DOMAIN + unsigned))
        else:  # valid, by a key nobody trusts
            author = strangers[i % len(strangers)]
            content = Content(Kind.NEWS, author.key_id, created, f"spam {i} " * 6, "en")
            out.append(wire.sign(content, author).raw)
    return out


class Run:
    """Two engines (the victim and its neighbour) and a flood that reaches the victim only."""

    def __init__(self, config: SyncConfig, flood: list[tuple[float, bytes]]) -> None:
        self.judges: dict[int, MemoryJudge] = {}
        self.engines = {
            VICTIM: self._engine(config, VICTIM, VICTIM),
            NEIGHBOUR: self._engine(config, 0, NEIGHBOUR),
        }
        self.engines[NEIGHBOUR].node = NEIGHBOUR
        known = wire.sign(
            Content(Kind.NEWS, NEWSROOM.key_id, int(T0) - 600, "earlier", "en"), NEWSROOM
        )
        victim = self.engines[VICTIM]
        judged = victim.judge(known.raw, T0, None)
        assert judged is not None and judged.relayable
        victim.add(known.raw, judged, T0 - 600)  # from its store: the newsroom's key is known
        self.queue: list[tuple[float, int, int, int, bytes]] = []  # (t, seq, to, from, payload)
        self.seq = 0
        self.busy_until: dict[int, float] = {VICTIM: T0, NEIGHBOUR: T0}
        for at, payload in flood:
            self._push(at, VICTIM, 0x100000 + self.seq, payload)
        self.flood_cpu = 0.0
        self.flooded = 0
        self.peak_sets = 0

    def _engine(self, config: SyncConfig, node: int, radio: int) -> SyncEngine:
        state = TrustState()
        state.add_root(NEWSROOM.key_id, NEWSROOM.public_key, "newsroom")
        self.judges[radio] = MemoryJudge(state)
        return SyncEngine(config, seed=node + 1, node=node)

    def _push(self, at: float, to: int, sender: int, payload: bytes) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, to, sender, payload))

    def transmit(self, node: int, sends: list[SendPacket], now: float) -> None:
        other = NEIGHBOUR if node == VICTIM else VICTIM
        for send in sends:  # one radio sends one packet at a time
            start = max(now, self.busy_until[node])
            self.busy_until[node] = start + packet_airtime(len(send.payload))
            self._push(self.busy_until[node], other, node, send.payload)

    def run(self, alert: bytes, until: float) -> float | None:
        """Publish ``alert`` at ALERT_AT; return seconds until the victim holds it."""
        ident = wire.bulletin_id(alert[: -wire.SIGNATURE_LEN])
        published = False
        victim = self.engines[VICTIM]
        held_at: float | None = None
        while True:
            timers = [(e.next_deadline() or float("inf"), n) for n, e in self.engines.items()]
            timer = min(timers)
            packet = self.queue[0][0] if self.queue else float("inf")
            moment = min(timer[0], packet, T0 + ALERT_AT if not published else float("inf"))
            if moment > until:
                break
            if not published and moment >= T0 + ALERT_AT:
                published = True
                neighbour = self.engines[NEIGHBOUR]
                judged = self.judges[NEIGHBOUR](alert, moment, None)
                assert judged is not None and judged.relayable
                self.transmit(NEIGHBOUR, neighbour.publish(alert, judged, moment), moment)
                continue
            if packet <= timer[0]:
                at, _, to, sender, payload = heapq.heappop(self.queue)
                event = PacketReceived(payload, sender, hops=0, snr=-12.0, hop_limit=0)
                flooded = sender >= 0x100000
                started = time.process_time()
                sends = receive_judged(self.engines[to], self.judges[to], event, at)
                if flooded:
                    self.flood_cpu += time.process_time() - started
                    self.flooded += 1
                self.peak_sets = max(self.peak_sets, len(victim.reassembler._pending))
                self.transmit(to, sends, at)
            else:
                self.transmit(timer[1], self.engines[timer[1]].tick(timer[0]), timer[0])
            if held_at is None and victim.holds(ident):
                held_at = max(moment, packet if packet <= timer[0] else timer[0])
        return None if held_at is None else held_at - (T0 + ALERT_AT)


def verify_seconds(repeats: int = 2000) -> float:
    """One raw PyNaCl Ed25519 verify of a bulletin-sized message, on this machine."""
    key = nacl.signing.SigningKey(bytes(range(32)))
    message = bytes(200)
    signed = key.sign(message)
    verify = key.verify_key
    started = time.process_time()
    for _ in range(repeats):
        verify.verify(signed)
    return (time.process_time() - started) / repeats


def figures(factor: float = 10.0, seconds: float = 300.0, seed: int = 1) -> dict[str, Any]:
    alert = alert_bulletin()
    mix = flood_frames(64, seed)  # sizes: a representative mix
    mean_air = sum(packet_airtime(len(p)) for p in mix) / len(mix)
    count = int(seconds * factor / mean_air)
    frames = flood_frames(count, seed)
    rng = random.Random(seed)
    at, flood = T0, []
    for payload in frames:  # N x capacity: the flood's airtime is N times the time it spans
        at += packet_airtime(len(payload)) / factor * rng.uniform(0.5, 1.5)
        flood.append((at, payload))
    until = T0 + seconds + 600.0
    quiet = Run(SyncConfig(), []).run(alert, until)
    attacked = Run(SyncConfig(), flood)
    latency = attacked.run(alert, until)
    open_ = Run(replace(SyncConfig(), untrusted_budget=0), flood)
    latency_open = open_.run(alert, until)
    one_verify = verify_seconds()
    victim = attacked.engines[VICTIM]
    bound = victim.reassembler
    return {
        "factor": factor,
        "flood_frames": attacked.flooded,
        "flood_seconds": round(at - T0, 1),
        "alert_latency_quiet_s": None if quiet is None else round(quiet, 2),
        "alert_latency_attacked_s": None if latency is None else round(latency, 2),
        "alert_latency_vs_quiet": None
        if quiet is None or latency is None
        else round(latency / quiet, 3),
        "alert_latency_vs_quiet_without_budget": (
            None if quiet is None or latency_open is None else round(latency_open / quiet, 3)
        ),
        "reassembly_peak_bytes_vs_bound": round(bound.peak_bytes / bound.max_bytes, 3),
        "reassembly_peak_sets_vs_bound": round(attacked.peak_sets / bound.max_pending, 3),
        "cpu_per_flood_frame_vs_verify": round(
            attacked.flood_cpu / attacked.flooded / one_verify, 3
        ),
        "cpu_per_flood_frame_vs_verify_without_budget": round(
            open_.flood_cpu / open_.flooded / one_verify, 3
        ),
        "dropped_over_budget": victim.stats.over_budget,
        "dropped_over_budget_share": round(victim.stats.over_budget / attacked.flooded, 3),
        "radios_quarantined": victim.stats.quarantined + len(victim.quarantine.requests),
        "verify_us": round(one_verify * 1e6, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--factor", type=float, default=10.0, help="flood airtime ÷ channel time")
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the flood")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = figures(args.factor, args.seconds, args.seed)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"flood: {result['flood_frames']} frames from as many radios in "
        f"{result['flood_seconds']} s = {result['factor']:g}x LongFast capacity"
    )
    print(
        f"extreme alert held after {result['alert_latency_attacked_s']} s = "
        f"{result['alert_latency_vs_quiet']}x the quiet run ({result['alert_latency_quiet_s']} s); "
        f"without the budget {result['alert_latency_vs_quiet_without_budget']}x"
    )
    print(
        f"reassembly memory peak: {result['reassembly_peak_bytes_vs_bound']}x its byte bound, "
        f"{result['reassembly_peak_sets_vs_bound']}x its set bound"
    )
    print(
        f"CPU per flooded frame: {result['cpu_per_flood_frame_vs_verify']}x one Ed25519 verify "
        f"({result['verify_us']} µs); without the budget "
        f"{result['cpu_per_flood_frame_vs_verify_without_budget']}x; "
        f"{result['dropped_over_budget_share']:.0%} of the flood dropped unjudged"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
