"""The daemon on a radio link, as an operator's relay runs it: bench/pi.py --link radio.

Two emulated radios on one medium in a helper process of their own; daemon A sends corpus texts,
daemon B (the measured relay, trusting A's key) holds them and is asked to read them; B's RSS is
sampled every second against the Raspberry Pi budget (bench/pi.py's BUDGET_MB).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from memory import ask, proc_status, slope_per_hour, wait_for_api

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MB = 64.0  # the same budget as bench/pi.py


_RADIOS = """
import json, signal, threading
from relay.radio.emulator import EmulatedRadio
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
air = InProcessMedium(time_scale=1.0, seed=1)
radios = [EmulatedRadio(RadioState.create(n, long_name=f"R{n:x}"), medium=air)
          for n in (0xA1, 0xB2)]
tcps = [TcpTransport(r, port=0).start() for r in radios]
for r in radios:
    r.start()
print(json.dumps([t.port for t in tcps]), flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
for t, r in zip(tcps, radios):
    t.close()
    r.stop()
air.close()
"""
_PASSPHRASE = "correct horse battery staple"


def _jarshy(home: Path, *argv: str, timeout: float = 60) -> str:
    """Run one ``jarshy`` command in ``home``; its stdout (raises with stderr on failure)."""
    env = dict(os.environ, JARSHY_HOME=str(home), JARSHY_KDF="fast",
               JARSHY_PASSPHRASE=_PASSPHRASE, PYTHONPATH=str(ROOT))  # fmt: skip
    out = subprocess.run([sys.executable, "-m", "relay.cli", *argv], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"jarshy {argv[0]} {argv[1] if len(argv) > 1 else ''}: "
                           f"{out.stderr.strip()[-300:]}")  # fmt: skip
    return out.stdout


def _start(command: list[str], home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, JARSHY_HOME=str(home), JARSHY_KDF="fast",
               JARSHY_PASSPHRASE=_PASSPHRASE, PYTHONPATH=str(ROOT))  # fmt: skip
    with open(log, "wb") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, then SIGKILL what is left after 30 s."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _texts(limit: int = 200) -> list[str]:
    corpus = ROOT / "tests" / "data" / "corpus" / "train.jsonl"
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    return [r["text"] for r in rows if len(r["text"]) <= limit]


def radio_figures(args: argparse.Namespace) -> dict[str, Any]:
    """B's memory on a radio link, A publishing to it through two emulated radios."""
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="jarshy-pi-radio-") as tmp:
        base = Path(tmp)
        home_a, home_b = base / "a", base / "b"
        home_a.mkdir()
        home_b.mkdir()
        sock_a, sock_b = home_a / "api.sock", home_b / "api.sock"
        try:
            _jarshy(home_a, "keys", "new", "bench-a")
            share = _jarshy(home_a, "keys", "share", "bench-a").strip().splitlines()[-1].strip()
            _jarshy(home_b, "trust", "add", share)
            radios = subprocess.Popen([sys.executable, "-c", _RADIOS], cwd=ROOT,
                                      env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                      stdout=subprocess.PIPE, start_new_session=True)  # fmt: skip
            procs.append(radios)  # type: ignore[arg-type]
            assert radios.stdout is not None
            port_a, port_b = json.loads(radios.stdout.readline())
            daemon = [sys.executable, "-m", "relay.cli", "daemon", "--radio"]
            procs.append(_start([*daemon, f"tcp:127.0.0.1:{port_a}", "--socket", str(sock_a)],
                                home_a, base / "a.log"))  # fmt: skip
            b = _start([*daemon, f"tcp:127.0.0.1:{port_b}", "--socket", str(sock_b)],
                       home_b, base / "b.log")  # fmt: skip
            procs.append(b)
            asyncio.run(wait_for_api(sock_a, 90))
            asyncio.run(wait_for_api(sock_b, 90))
            texts = _texts()
            samples: list[tuple[float, float]] = []
            sent = failed = read = trusted = 0
            next_send = next_read = 0.0
            start = time.monotonic()
            while (elapsed := time.monotonic() - start) <= args.minutes * 60:
                samples.append((elapsed, proc_status(b.pid)["rss_mb"]))
                if elapsed >= next_send:
                    next_send += args.interval
                    try:
                        _jarshy(home_a, "send", "--text", texts[sent % len(texts)], "--socket",
                                str(sock_a))  # fmt: skip
                        sent += 1
                    except (RuntimeError, subprocess.TimeoutExpired):
                        failed += 1
                if elapsed >= next_read:
                    next_read += args.read_every
                    every = ("--json", "--limit", "100000", "--socket", str(sock_b))
                    out = _jarshy(home_b, "read", *every)
                    held = [json.loads(line) for line in out.splitlines() if line.strip()]
                    texts_read = [h for h in held if h.get("text")]
                    read = max(read, len(texts_read))
                    trusted = max(trusted, sum(h.get("status") == "trusted" for h in texts_read))
                time.sleep(max(0.0, 1.0 - (time.monotonic() - start - elapsed)))
            status = asyncio.run(ask(sock_b, "status"))
            hwm = _vm_hwm(b.pid)
        finally:
            _stop(procs[::-1])
    n = len(samples)
    tail = [v for _, v in samples[-max(1, n // 3) :]]
    steady = statistics.median(tail)
    peak = max(hwm, max(v for _, v in samples))
    return {
        "minutes": args.minutes, "publish_interval_s": args.interval,
        "start_rss_mb": round(samples[0][1], 1),
        "peak_rss_mb": round(peak, 1), "peak_vs_budget": round(peak / BUDGET_MB, 3),
        "steady_rss_mb": round(steady, 1), "steady_vs_budget": round(steady / BUDGET_MB, 3),
        "slope_mb_per_hour": round(slope_per_hour(samples[n // 3 :]), 2),
        "samples": n, "sent_by_a": sent, "send_failures": failed,
        "bulletins_held": sum(int(v) for v in status.get("counts", {}).values()),
        "texts_read_from_b": read, "trusted_texts_read": trusted,
        "series_mb": [[round(t), round(v, 1)] for t, v in samples[:: max(1, n // 60)]],
    }  # fmt: skip


def _vm_hwm(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def show_radio(r: dict[str, Any]) -> None:
    print(
        f"relay daemon on a radio link: {r['minutes']:g} min, A sends every "
        f"{r['publish_interval_s']:g} s ({r['sent_by_a']} sent, {r['send_failures']} failed)"
    )
    print(f"  B's RSS at start {r['start_rss_mb']} MB; peak {r['peak_rss_mb']} MB = "
          f"{r['peak_vs_budget']}× the {BUDGET_MB:g} MB budget; steady {r['steady_rss_mb']} MB = "
          f"{r['steady_vs_budget']}×; slope {r['slope_mb_per_hour']:+} MB/h; "
          f"{r['bulletins_held']} bulletins held, {r['texts_read_from_b']} texts read "
          f"({r['trusted_texts_read']} trusted)")  # fmt: skip
