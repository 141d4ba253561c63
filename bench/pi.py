"""A Raspberry Pi budget: the daemon's memory and card writes, and one core's ingest and compose.

Three parts, each against a baseline measured in the same run:

  * **memory**: the real `jarshy daemon` on the simulated mesh (as ``bench/memory.py`` runs it),
    publishers sped up by ``--interval``; peak RSS and steady RSS (median of the last third of
    the samples) ÷ the 64 MB budget, and the slope after warm-up.
  * **card writes**: the same daemon under ``strace``, twice: with the store's settings
    (``synchronous=NORMAL``, acknowledged writes flushed; relay.store) and with every commit
    flushed (``synchronous=FULL``, the settings before): flushes (fsync/fdatasync) and bytes
    written to the store's files (database and WAL), per hour of the default pace's traffic, and
    the ratio after ÷ before. Skipped without ``strace``.
  * **one core** (``os.sched_setaffinity``): relay-path ingest (batched, and one commit per
    bulletin as a daemon does between packets) ÷ raw PyNaCl verify, and compose (text encoding
    with every codec, then signing) ÷ raw PyNaCl sign, on the corpus test split; and the peak RSS
    of a process that composes and reads ``--texts`` different texts (the codec's tables, bounded
    by relay.codec._ppm.MAX_STATES) ÷ 64 MB.
  * **radio link** (``--link radio`` or ``both``): what an operator's relay runs. Two emulated
    radios on one medium in a process of their own, daemon A on radio 1 publishing different
    corpus texts every ``--interval`` s, and the measured relay daemon B (trusting A's key) on
    radio 2, its API asked to ``read`` (decode) them every ``--read-every`` s; B's VmRSS each
    second: start, peak, steady ÷ 64 MB, slope on the last two thirds, bulletins held, texts read.

``python bench/pi.py [--link sim|radio|both] [--minutes 3] [--interval 2] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from memory import DEFAULT_INTERVAL, ask, proc_status, slope_per_hour, wait_for_api  # noqa: E402
from pi_radio import radio_figures, show_radio  # noqa: E402

BUDGET_MB = 64.0
_DAEMON = (
    "import sys, relay.store; relay.store.SYNCHRONOUS = sys.argv[1]; "
    "from relay.cli import main; sys.exit(main(['daemon', '--socket', sys.argv[2]]))"
)
_WRITE = re.compile(r"^\d+\s+(pwrite64|write|fsync|fdatasync)\((\d+)<([^>]*)>.*\)\s+=\s+(-?\d+)")


def traffic_hours(minutes: float, interval: float) -> float:
    """Hours of the default daemon's traffic (a publisher every 12 s) that a run carried."""
    return minutes * 60 / interval / (3600 / DEFAULT_INTERVAL)


async def run_daemon(
    home: Path, minutes: float, interval: float, synchronous: str, trace: Path | None, every: float
) -> dict[str, Any]:
    """One daemon run; RSS samples (seconds, MB), and the strace log if ``trace``."""
    socket = home / "api.sock"
    env = dict(os.environ, JARSHY_HOME=str(home), JARSHY_SIM_INTERVAL=str(interval),
               PYTHONPATH=str(ROOT))  # fmt: skip
    command = [sys.executable, "-c", _DAEMON, synchronous, str(socket)]
    if trace is not None:
        command = ["strace", "-f", "-qq", "-y", "-o", str(trace),
                   "-e", "trace=pwrite64,write,fsync,fdatasync", *command]  # fmt: skip
    log = open(home.parent / f"daemon-{synchronous}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    samples: list[tuple[float, float]] = []
    pid = proc.pid
    try:
        await wait_for_api(socket, 90)
        pid = _python_pid(proc.pid)
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) <= minutes * 60:
            samples.append((elapsed, proc_status(pid)["rss_mb"]))
            await asyncio.sleep(every)
        status = await ask(socket, "status")
    finally:
        os.kill(pid, signal.SIGTERM)  # the daemon itself (under strace: strace's child)
        try:
            code = proc.wait(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    return {"samples": samples, "status": status, "exit_code": code}


def _python_pid(pid: int) -> int:
    """The daemon's own pid: under strace, its child."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for _ in range(50):
        found = children.read_text().split() if children.exists() else []
        if Path(f"/proc/{pid}/exe").resolve().name.startswith("python"):
            return pid
        if found:
            return int(found[0])
        time.sleep(0.1)
    return pid


def card_writes(trace: Path, store_dir: Path) -> dict[str, int]:
    """Flushes and bytes written to the store's files (database, WAL) in an strace log."""
    flushes = writes = written = 0
    prefix = str(store_dir)
    for line in trace.read_text(errors="replace").splitlines():
        match = _WRITE.match(line)
        if match is None or not match.group(3).startswith(prefix):
            continue
        call, result = match.group(1), int(match.group(4))
        if ".sqlite3" not in match.group(3) or result < 0:
            continue
        if call in ("fsync", "fdatasync"):
            flushes += 1
        else:
            writes += 1
            written += result
    return {"flushes": flushes, "writes": writes, "bytes": written}


def memory_figures(run: dict[str, Any], warmup: float) -> dict[str, Any]:
    samples: list[tuple[float, float]] = run["samples"]
    after = [(t, v) for t, v in samples if t >= warmup] or samples[-1:]
    values = [v for _, v in after]
    steady = statistics.median(values[-max(1, len(values) // 3) :])
    peak = max(v for _, v in samples)
    slope = slope_per_hour(after)
    return {
        "peak_rss_mb": round(peak, 1),
        "steady_rss_mb": round(steady, 1),
        "peak_vs_budget": round(peak / BUDGET_MB, 3),
        "steady_vs_budget": round(steady / BUDGET_MB, 3),
        "slope_mb_per_hour": round(slope, 2),
        "samples": len(samples),
        "bulletins_held": sum(int(v) for v in run["status"].get("counts", {}).values()),
        "exit_code": run["exit_code"],
        "series_mb": [[round(t), round(v, 1)] for t, v in samples],
    }


def daemon_figures(args: argparse.Namespace) -> dict[str, Any]:
    traced = shutil.which("strace") is not None and not args.no_writes
    hours = traffic_hours(args.minutes, args.interval)
    result: dict[str, Any] = {"minutes": args.minutes, "publish_interval_s": args.interval,
                              "default_traffic_hours": round(hours, 2)}  # fmt: skip
    writes: dict[str, dict[str, float]] = {}
    for synchronous in ("NORMAL", "FULL") if traced else ("NORMAL",):
        with tempfile.TemporaryDirectory(prefix="jarshy-pi-") as tmp:
            home = Path(tmp) / "home"
            home.mkdir()
            trace = Path(tmp) / "strace.log" if traced else None
            run = asyncio.run(
                run_daemon(home, args.minutes, args.interval, synchronous, trace, args.every)
            )
            if synchronous == "NORMAL":
                result["memory"] = memory_figures(run, min(120.0, args.minutes * 60 / 5))
            if trace is not None:
                counted = card_writes(trace, home)
                writes[synchronous] = {
                    **counted,
                    "flushes_per_hour": round(counted["flushes"] / hours, 1),
                    "kb_per_hour": round(counted["bytes"] / 1024 / hours, 1),
                }
    if writes:
        after, before = writes["NORMAL"], writes["FULL"]
        result["card_writes"] = {
            "after_normal": after,
            "before_full": before,
            "flushes_after_vs_before": round(after["flushes"] / max(1, before["flushes"]), 3),
            "bytes_after_vs_before": round(after["bytes"] / max(1, before["bytes"]), 3),
        }
    return result


def pinned(function: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``function`` on one core (the first this process may use), then restore."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        return function()
    finally:
        os.sched_setaffinity(0, allowed)


def core_figures() -> dict[str, Any]:
    import nacl.signing
    from wire import codec_tables, content_for, ingest_rates, load, rate

    from relay.crypto.keys import Identity
    from relay.wire import bulletin as wire

    items = load()
    author = Identity("bench", bytes(range(32)))
    contents = [content_for(item, author.key_id, i) for i, item in enumerate(items)]
    with codec_tables(1 << 20):  # fixtures: not a measured figure
        signed = [wire.sign(c, author) for c in contents]
        raw_key = nacl.signing.SigningKey(bytes(range(32)))
        verify_key = raw_key.verify_key
        raw_signed = [raw_key.sign(b.signed_bytes) for b in signed]
        raw_verify = rate(lambda s: verify_key.verify(s), raw_signed)
        raw_sign = rate(lambda b: raw_key.sign(b.signed_bytes), signed)
        one_commit, batched = ingest_rates(author, contents)
    compose = rate(lambda c: wire.sign(c, author), contents, minimum=2.0)  # tables bounded
    return {
        "raw_pynacl_verify_per_s": round(raw_verify),
        "raw_pynacl_sign_per_s": round(raw_sign),
        "ingest_batched_per_s": round(batched),
        "ingest_one_commit_each_per_s": round(one_commit),
        "compose_per_s": round(compose, 1),
        "ingest_batched_vs_raw_verify": round(batched / raw_verify, 3),
        "ingest_one_commit_each_vs_raw_verify": round(one_commit / raw_verify, 3),
        "compose_vs_raw_sign": round(compose / raw_sign, 4),
    }


_CODEC_CHILD = """
import json, sys
from relay.codec import decode_text, encode_text
import relay.codec._ppm as ppm
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
texts = texts[: int(sys.argv[2])]
for text in texts:
    assert decode_text(encode_text(text)) == text
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(json.dumps({"texts": len(texts), "max_states": ppm.MAX_STATES,
                  "peak_rss_mb": int(hwm.split()[1]) / 1024}))
"""


def codec_memory(texts: int) -> dict[str, Any]:
    """Peak RSS (VmHWM: ru_maxrss would carry this process's over the exec) of a process that
    composes and reads ``texts`` different corpus texts."""
    corpus = ROOT / "tests" / "data" / "corpus" / "train.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _CODEC_CHILD, str(corpus), str(texts)],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["peak_vs_budget"] = round(result["peak_rss_mb"] / BUDGET_MB, 3)
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    return result


def show(result: dict[str, Any]) -> None:
    d = result["daemon"]
    m = d["memory"]
    print(f"daemon on the simulated mesh: {d['minutes']:g} min, publishers every "
          f"{d['publish_interval_s']:g} s = {d['default_traffic_hours']:g} h of default "
          "traffic")  # fmt: skip
    print(f"  RSS peak {m['peak_rss_mb']} MB = {m['peak_vs_budget']}× the {BUDGET_MB:g} MB budget; "
          f"steady {m['steady_rss_mb']} MB = {m['steady_vs_budget']}×; slope after warm-up "
          f"{m['slope_mb_per_hour']:+} MB/h; {m['bulletins_held']} bulletins held")  # fmt: skip
    w = d.get("card_writes")
    if w:
        a, b = w["after_normal"], w["before_full"]
        print(f"  card writes per hour of traffic: flushes {a['flushes_per_hour']} (every commit "
              f"flushed: {b['flushes_per_hour']}) = {w['flushes_after_vs_before']}×; "
              f"{a['kb_per_hour']} KB ({b['kb_per_hour']} KB) = "
              f"{w['bytes_after_vs_before']}×")  # fmt: skip
    else:
        print("  card writes: not measured (needs strace)")
    c = result["one_core"]
    print(f"one core: raw PyNaCl verify {c['raw_pynacl_verify_per_s']}/s, sign "
          f"{c['raw_pynacl_sign_per_s']}/s")  # fmt: skip
    print(f"  relay-path ingest, batched {c['ingest_batched_per_s']}/s = "
          f"{c['ingest_batched_vs_raw_verify']}× raw verify; one commit each "
          f"{c['ingest_one_commit_each_per_s']}/s = "
          f"{c['ingest_one_commit_each_vs_raw_verify']}×")  # fmt: skip
    print(f"  compose (every codec, then sign) {c['compose_per_s']}/s = "
          f"{c['compose_vs_raw_sign']}× raw sign")  # fmt: skip
    k = result["codec_memory"]
    print(f"codec tables: composing and reading {k['texts']} different texts peaks at "
          f"{k['peak_rss_mb']} MB = {k['peak_vs_budget']}× the budget ({k['max_states']} states "
          f"per model at most; {k['seconds']} s)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="each daemon run (default 3)")
    parser.add_argument("--interval", type=float, default=2.0, help="publishers' pace, seconds")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--texts", type=int, default=150, help="texts for the codec's memory")
    parser.add_argument("--no-writes", action="store_true", help="skip the strace runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--link",
        choices=("sim", "radio", "both"),
        default="sim",
        help="daemon on the simulated mesh (default), on a radio link, or both",
    )
    parser.add_argument("--read-every", type=float, default=10.0, help="radio: B read, seconds")
    args = parser.parse_args()
    result: dict[str, Any] = {"budget_mb": BUDGET_MB}
    if args.link in ("sim", "both"):
        result["one_core"] = pinned(core_figures)
        result["codec_memory"] = codec_memory(args.texts)
        result["daemon"] = daemon_figures(args)
    if args.link in ("radio", "both"):
        result["radio_link"] = radio_figures(args)
    result |= {
        "max_rss_of_this_process_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        if "daemon" in result:
            show(result)
        if "radio_link" in result:
            show_radio(result["radio_link"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
