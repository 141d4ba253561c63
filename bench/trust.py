"""Trust under a key-material flood: what strangers' key bulletins cost, and whether alerts wait.

Every figure is a ratio against a baseline measured in the same run:
  * import of N self-announcements (N = 250, 500, 1000, 2000) through the real ingest pipeline and
    SQLite: time(N) ÷ time(250) (target: 1000 ≤ 6×), and the naive rule (re-judge every stored
    bulletin after each key learnt, as before issue 9) for N = 250, 500 ÷ today's;
  * a trusted extreme safety alert arriving during a flood of 1,000 announcements from rotating
    radios, with 300 held bulletins: its handling time, and the slowest single frame of the flood
    (ingest plus its re-judge slice: what the alert can wait behind), each ÷ one LongFast frame time
    (a full packet's airtime, ≈ 2 s; target ≤ 1);
  * the trust graph with a certificate fan-out of 64 issuers per level over 3 levels: compute time
    and the verdict on one bulletin, ÷ one raw PyNaCl verify;
  * the untrusted quota under a flood of 5,000 junk bulletins from unknown keys: rows held ÷ the
    bound, and whether a trusted alert sent after the flood is stored trusted.
Run ``python bench/trust.py [--json]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nacl.signing  # noqa: E402

from relay.crypto.keys import Identity  # noqa: E402
from relay.holding import HoldLimits  # noqa: E402
from relay.ingest import Ingest  # noqa: E402
from relay.lora import packet_airtime  # noqa: E402
from relay.store import Store  # noqa: E402
from relay.trust import Status, TrustState, evaluate  # noqa: E402
from relay.wire import bulletin as wire  # noqa: E402
from relay.wire.fields import CERTIFY_BIT, Content, Kind, SafetyInfo  # noqa: E402

T0 = 1_767_225_600
NOW = float(T0 + 60)


def identity(name: str) -> Identity:
    return Identity(name, hashlib.sha256(b"bench-trust:" + name.encode()).digest())


def announcement(who: Identity, created: int = T0) -> bytes:
    content = Content(
        Kind.ANNOUNCEMENT, who.key_id, created, subject_key=who.public_key, name=who.name[:32]
    )
    return wire.sign(content, who).raw


def certificate(
    issuer: Identity, subject: Identity, certify: bool = True, created: int = T0
) -> bytes:
    content = Content(
        Kind.CERTIFICATE,
        issuer.key_id,
        created,
        subject_key=subject.public_key,
        name=subject.name[:32],
        kinds=0b1111 | (CERTIFY_BIT if certify else 0),
        lifetime=90 * 86400,
    )
    return wire.sign(content, issuer).raw


def alert(author: Identity, text: str, created: int = T0) -> bytes:
    info = SafetyInfo("flood", "met", "extreme", "immediate", "observed", area="Almaty")
    content = Content(Kind.SAFETY, author.key_id, created, text, "en", lifetime=3600, safety=info)
    return wire.sign(content, author).raw


def news(author: Identity, text: str) -> bytes:
    return wire.sign(Content(Kind.NEWS, author.key_id, T0, text, "en"), author).raw


def fresh_node(tmp: Path, name: str, root: Identity, limits: HoldLimits | None = None) -> Ingest:
    store = Store(tmp / f"{name}.sqlite3")
    node = Ingest(store)
    if limits is not None:
        from relay.holding import Holding

        node.holding = Holding(store, limits)
    node.add_root(root.public_key, "Newsroom", NOW)
    return node


def timed_import(node: Ingest, raws: list[bytes], naive: bool = False) -> float:
    start = time.perf_counter()
    with node.store.batch():
        for raw in raws:
            node.ingest(raw, NOW, "bundle")
            if naive:
                node.reevaluate(NOW)  # the old rule: every stored verdict after every key
            else:
                node.settle(NOW)
    return time.perf_counter() - start


def import_scaling(tmp: Path, root: Identity) -> dict[str, Any]:
    pool = [announcement(identity(f"flood-{i}")) for i in range(2000)]
    held = [news(root, f"held {i}") for i in range(100)]
    out: dict[str, Any] = {}
    seconds: dict[int, float] = {}
    for n in (250, 500, 1000, 2000):
        node = fresh_node(tmp, f"scale-{n}", root)
        for raw in held:
            node.ingest(raw, NOW, "radio")
        seconds[n] = timed_import(node, pool[:n])
        out[f"import_{n}_s"] = round(seconds[n], 3)
    for n in (1000, 2000):
        out[f"import_{n}_over_250"] = round(seconds[n] / seconds[250], 2)
    for n in (250, 500):
        node = fresh_node(tmp, f"naive-{n}", root)
        for raw in held:
            node.ingest(raw, NOW, "radio")
        naive = timed_import(node, pool[:n], naive=True)
        out[f"naive_import_{n}_s"] = round(naive, 3)
        out[f"naive_over_today_{n}"] = round(naive / seconds[n], 1)
    return out


def alert_during_flood(tmp: Path, root: Identity) -> dict[str, Any]:
    node = fresh_node(tmp, "flood", root)
    journalist = identity("journalist")
    node.ingest(certificate(root, journalist), NOW, "radio")
    for i in range(300):
        node.ingest(news(journalist, f"held {i}"), NOW, "radio")
    flood = [announcement(identity(f"rot-{i}")) for i in range(1000)]
    slowest = 0.0
    handled = 0.0
    status = None
    for i, raw in enumerate(flood):
        start = time.perf_counter()
        node.ingest(raw, NOW, "radio", origin=f"radio:!{i:08x}")
        if node.backlog:
            node.rejudge(NOW)  # the daemon's next slice
        slowest = max(slowest, time.perf_counter() - start)
        if i == 500:
            start = time.perf_counter()
            result = node.ingest(
                alert(journalist, "Dam breach: leave the river bank now"), NOW, "radio"
            )
            handled = time.perf_counter() - start
            status = None if result.verdict is None else str(result.verdict.status)
    frame = packet_airtime(231, "LONG_FAST")
    return {
        "frame_time_s": round(frame, 3),
        "alert_status": status,
        "alert_handled_ms": round(handled * 1000, 2),
        "alert_over_frame": round(handled / frame, 5),
        "slowest_flood_frame_ms": round(slowest * 1000, 2),
        "slowest_over_frame": round(slowest / frame, 5),
    }


def fan_out(root: Identity) -> dict[str, Any]:
    state = TrustState()
    state.add_root(root.key_id, root.public_key, "Newsroom")
    levels: list[list[Identity]] = [[root]]
    for level in range(3):
        keys = [identity(f"fan-{level}-{i}") for i in range(64)]
        for key in keys:
            for issuer in levels[-1]:
                state.learn(wire.decode(certificate(issuer, key)))
        levels.append(keys)
    author = levels[-1][0]
    bulletin = wire.decode(news(author, "fan-out"))
    start = time.perf_counter()
    graph = state.graph(NOW)
    compute = time.perf_counter() - start
    start = time.perf_counter()
    verdict = evaluate(state, bulletin, True, NOW)
    judged = time.perf_counter() - start
    verify = verify_seconds()
    return {
        "fanout_certificates": sum(len(v) for by in state.issued.values() for v in by.values()),
        "fanout_trusted_keys": len(graph.grants),
        "fanout_status": str(verdict.status),
        "fanout_graph_ms": round(compute * 1000, 2),
        "fanout_graph_over_verify": round(compute / verify, 1),
        "fanout_verdict_us": round(judged * 1e6, 1),
        "fanout_verdict_over_verify": round(judged / verify, 2),
    }


def quota(tmp: Path, root: Identity) -> dict[str, Any]:
    limits = HoldLimits()
    node = fresh_node(tmp, "quota", root, limits)
    start = time.perf_counter()
    with node.store.batch():
        for i in range(5000):
            content = Content(Kind.NEWS, os.urandom(8), T0, f"junk {i}", "en")
            raw = wire.encode_unsigned(content) + os.urandom(64)
            node.ingest(raw, NOW, "radio", origin=f"radio:!{i:08x}")
    flood = time.perf_counter() - start
    rows, size = node._holding.usage()
    result = node.ingest(alert(root, "Evacuate the dam area"), NOW, "radio")
    return {
        "quota_rows_over_bound": round(rows / limits.rows, 3),
        "quota_bytes_over_bound": round(size / limits.size, 3),
        "quota_flood_per_frame_ms": round(flood / 5000 * 1000, 3),
        "quota_alert_after_flood": None if result.verdict is None else str(result.verdict.status),
    }


def verify_seconds() -> float:
    key = nacl.signing.SigningKey(b"\x01" * 32)
    signed = key.sign(b"x" * 120)
    verify = key.verify_key
    rounds = 2000
    start = time.perf_counter()
    for _ in range(rounds):
        verify.verify(signed)
    return (time.perf_counter() - start) / rounds


def run() -> dict[str, Any]:
    root = identity("root")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        result: dict[str, Any] = {"raw_verify_us": round(verify_seconds() * 1e6, 1)}
        result.update(import_scaling(path, root))
        result.update(alert_during_flood(path, root))
        result.update(fan_out(root))
        result.update(quota(path, root))
    assert result["alert_status"] == str(Status.TRUSTED)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    show(run(), args.json)
    return 0


def show(result: dict[str, Any], as_json: bool) -> None:
    """One JSON object, or one figure a line."""
    if as_json:
        print(json.dumps(result))
        return
    width = max(map(len, result))
    for name, value in result.items():
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    raise SystemExit(main())
