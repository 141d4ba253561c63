"""Memory of the default daemon (`jarshy daemon`, simulated mesh) over time.

Runs the real daemon process on a fresh home for ``--minutes`` (default 3), samples its resident
set size (RSS, /proc/PID/status), threads and open files every ``--every`` seconds, and reports
against a baseline measured in the same run: the RSS after ``--warmup`` seconds.

  * end ÷ baseline and peak ÷ baseline;
  * growth after warm-up: the least-squares slope of RSS over time, in MB per hour and as a
    fraction of the baseline per hour, and what that slope would make of the baseline in 24 h.

Hours of real time are rarely at hand, so ``--interval`` speeds the simulated publishers up
(``JARSHY_SIM_INTERVAL``; the default daemon's is 12 s): the same demo bulletins, forgeries and
sync traffic, only more of it per minute. The report says how many hours of the default pace's
traffic the run carried. What depends on wall time alone (bulletin lifetimes of 6-24 h, the spam
brake's hour, the 10-minute expiry of untrusted rows) does not speed up.

``--tracemalloc`` runs the daemon in this process instead (built as in the tests) and lists the
source lines whose allocations grew most between the end of warm-up and the end of the run; since
protobuf messages and SQLite's cache live outside tracemalloc's sight, it also empties the
simulated radios' packet logs at the end and reports the RSS that gave back.

``python bench/memory.py [--minutes 3] [--interval 12] [--json] [--tracemalloc]``
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from relay.api_client import ApiClient, NoDaemon  # noqa: E402

DEFAULT_INTERVAL = 12.0  # the simulated publishers' pace in a default `jarshy daemon`


def proc_status(pid: int | str) -> dict[str, float]:
    """RSS (MB) and threads of a process, from /proc; open files from /proc/PID/fd."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key == "VmRSS":
                fields["rss_mb"] = int(value.split()[0]) / 1024
            elif key == "Threads":
                fields["threads"] = int(value)
    fields["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return fields


async def ask(socket: Path, method: str) -> Any:
    async with ApiClient(socket) as api:
        return await api.call(method)


async def wait_for_api(socket: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            await ask(socket, "hello")
            return
        except (NoDaemon, OSError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def sample(
    pid: int | str, minutes: float, every: float
) -> list[tuple[float, dict[str, float]]]:
    start = time.monotonic()
    samples = []
    while (elapsed := time.monotonic() - start) <= minutes * 60:
        samples.append((elapsed, proc_status(pid)))
        await asyncio.sleep(every)
    return samples


async def run_process(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    """The real `jarshy daemon` process, as a user starts it (simulated mesh, no radio)."""
    socket = home / "api.sock"
    env = dict(os.environ, JARSHY_HOME=str(home), JARSHY_SIM_INTERVAL=str(args.interval),
               PYTHONPATH=str(ROOT))  # fmt: skip
    log = open(home.parent / "daemon.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "daemon", "--socket", str(socket)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        await wait_for_api(socket, 60)
        samples = await sample(proc.pid, args.minutes, args.every)
        status = await ask(socket, "status")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
    return {"samples": samples, "status": status, "exit_code": code, "top_growth": []}


async def run_in_process(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    """The daemon built in this process (as tests build it), with tracemalloc watching."""
    import tracemalloc

    from relay.daemon_open import open_daemon
    from relay.paths import Paths

    tracemalloc.start(1)
    paths = Paths.at(home, home / "api.sock")
    daemon = await open_daemon(paths, sim_interval=args.interval)
    task = asyncio.create_task(daemon.run(signals=False))
    await asyncio.wait_for(daemon.started.wait(), 60)
    warm = asyncio.create_task(sample("self", args.minutes, args.every))
    await asyncio.sleep(args.warmup)
    before = tracemalloc.take_snapshot()
    samples = await warm
    after = tracemalloc.take_snapshot()
    status = daemon.status()
    noise = (tracemalloc.__file__, "<frozen importlib._bootstrap>")
    filters = [tracemalloc.Filter(False, f) for f in noise]
    diff = after.filter_traces(filters).compare_to(before.filter_traces(filters), "lineno")
    del before, after
    tracemalloc.stop()
    top = [
        {"where": f"{d.traceback[0].filename}:{d.traceback[0].lineno}",
         "grew_kb": round(d.size_diff / 1024, 1), "blocks": d.count_diff}
        for d in diff[:10]
    ]  # fmt: skip
    # Native memory (protobuf messages, SQLite's cache) is invisible to tracemalloc: measure what
    # the emulated radios' packet logs hold by emptying them and giving freed memory back.
    sim: Any = daemon.simulation
    radios = [sim.home, *sim.neighbours, sim.forger]
    kept = sum(len(r.heard) + len(r.from_phone) for r in radios)
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    rss = proc_status("self")["rss_mb"]
    for radio in radios:
        radio.heard.clear()
        radio.from_phone.clear()
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    diagnosis = {
        "traced_growth_mb": round(sum(d.size_diff for d in diff) / 2**20, 2),
        "emulator_packets_kept": kept,
        "emulator_logs_mb": round(rss - proc_status("self")["rss_mb"], 2),
        "held_bulletins": len(getattr(daemon.core.engine, "items", ())),
    }
    daemon.stop.set()
    code = await task
    return {"samples": samples, "status": status, "exit_code": code, "top_growth": top,
            "diagnosis": diagnosis}  # fmt: skip


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 3600


def figures(args: argparse.Namespace, run: dict[str, Any]) -> dict[str, Any]:
    samples: list[tuple[float, dict[str, float]]] = run["samples"]
    after = [(t, s) for t, s in samples if t >= args.warmup] or samples[-1:]
    baseline = after[0][1]["rss_mb"]
    rss = [s["rss_mb"] for _, s in after]
    slope = slope_per_hour([(t, s["rss_mb"]) for t, s in after])
    counts = run["status"].get("counts", {})
    per_hour = 3600 / DEFAULT_INTERVAL
    published = args.minutes * 60 / args.interval
    return {
        "mode": "in-process" if args.tracemalloc else "process",
        "minutes": args.minutes,
        "warmup_s": args.warmup,
        "every_s": args.every,
        "publish_interval_s": args.interval,
        "default_traffic_hours": round(published / per_hour, 2),
        "samples": len(samples),
        "baseline_rss_mb": round(baseline, 1),
        "end_rss_mb": round(rss[-1], 1),
        "end_over_baseline": round(rss[-1] / baseline, 3),
        "peak_over_baseline": round(max(rss) / baseline, 3),
        "slope_mb_per_hour": round(slope, 2),
        "slope_over_baseline_per_hour": round(slope / baseline, 4),
        "in_24h_over_baseline": round((baseline + 24 * slope) / baseline, 2),
        "threads": [int(after[0][1]["threads"]), int(after[-1][1]["threads"])],
        "open_files": [int(after[0][1]["fds"]), int(after[-1][1]["fds"])],
        "bulletins_held": sum(int(v) for v in counts.values()),
        "exit_code": run["exit_code"],
        "top_growth": run["top_growth"],
        "diagnosis": run.get("diagnosis", {}),
        "series_mb": [[round(t), round(s["rss_mb"], 1)] for t, s in samples],
    }


def show(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    r = result
    print(f"daemon memory on the simulated mesh ({r['mode']}): {r['minutes']:g} min, publishers "
          f"every {r['publish_interval_s']:g} s = {r['default_traffic_hours']:g} h of the default "
          f"pace's traffic; {r['samples']} samples every {r['every_s']:g} s")  # fmt: skip
    print(f"baseline: RSS after {r['warmup_s']:g} s warm-up = {r['baseline_rss_mb']} MB")
    print(f"end ÷ baseline: {r['end_over_baseline']}   peak ÷ baseline: {r['peak_over_baseline']}")
    print(f"growth after warm-up: {r['slope_mb_per_hour']:+} MB/h = "
          f"{r['slope_over_baseline_per_hour']:+} × baseline per hour; "
          f"24 h at that slope: {r['in_24h_over_baseline']} × baseline")  # fmt: skip
    print(f"threads {r['threads'][0]} -> {r['threads'][1]}, open files {r['open_files'][0]} -> "
          f"{r['open_files'][1]}; bulletins held at the end: {r['bulletins_held']}; "
          f"exit code {r['exit_code']}")  # fmt: skip
    d = r["diagnosis"]
    if d:
        print(f"traced Python allocations grew {d['traced_growth_mb']:+} MB after warm-up; the "
              f"emulated radios' packet logs ({d['emulator_packets_kept']} packets) hold "
              f"{d['emulator_logs_mb']} MB of RSS; the engine holds {d['held_bulletins']} "
              f"bulletins")  # fmt: skip
    for top in r["top_growth"]:
        print(f"  grew {top['grew_kb']:+} KiB in {top['blocks']:+} blocks at {top['where']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="how long to run (default 3)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument(
        "--warmup", type=float, default=None,
        help="seconds before the baseline (default: a fifth of the run, at most 120)",
    )  # fmt: skip
    parser.add_argument(
        "--interval", type=float, default=DEFAULT_INTERVAL,
        help="simulated publishers' pace in seconds (default 12, the daemon's)",
    )  # fmt: skip
    parser.add_argument(
        "--tracemalloc", action="store_true",
        help="run the daemon in this process and list where memory grew",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = min(120.0, args.minutes * 60 / 5)
    with tempfile.TemporaryDirectory(prefix="jarshy-mem-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        runner = run_in_process if args.tracemalloc else run_process
        show(figures(args, asyncio.run(runner(args, home))), args.json)


if __name__ == "__main__":
    main()
