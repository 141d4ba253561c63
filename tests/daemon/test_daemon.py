"""The daemon end to end: API, simulated mesh, publishing, lock, shutdown and crash safety."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from relay.api_client import ApiClient, ApiError
from tests.daemon.conftest import ROOT, DaemonProcess, start_daemon


def raw_exchange(path: Path, data: bytes, replies: int) -> list[dict[str, Any]]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(data)
        buffer = b""
        while buffer.count(b"\n") < replies:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
    return [json.loads(line) for line in buffer.splitlines()]


def test_api_survives_malformed_requests(simulated: DaemonProcess) -> None:
    assert oct(simulated.socket.stat().st_mode & 0o777) == "0o600"
    oversized = b'{"id": 9, "method": "hello", "pad": "' + b"x" * 100_000 + b'"}\n'
    replies = raw_exchange(
        simulated.socket,
        b"not json\n[1,2]\n" + oversized + b'{"id": 3, "method": "nope"}\n'
        b'{"id": 4, "method": "get", "params": {"id": "zz"}}\n{"id": 5, "method": "hello"}\n',
        replies=6,
    )
    codes = [r.get("error", {}).get("code") for r in replies]
    assert codes == [
        "bad-request",
        "bad-request",
        "bad-request",
        "unknown-method",
        "bad-params",
        None,
    ]
    assert replies[-1]["result"]["simulated"] is True


def test_simulated_feed_fills_with_every_verdict(simulated: DaemonProcess) -> None:
    def statuses() -> set[str]:
        result: Any = simulated.call("query", limit=100)
        return {b["status"] for b in result["bulletins"]}

    simulated.wait_for(lambda: {"trusted", "unknown_key", "invalid"} <= statuses(), timeout=60)
    status: Any = simulated.call("status")
    assert status["link"]["simulated"] is True and status["link"]["state"] == "up"
    assert status["radio"]["region"] == "KZ_863"


def test_subscribe_gets_bulletin_events(simulated: DaemonProcess) -> None:
    async def go() -> dict[str, Any]:
        async with ApiClient(simulated.socket) as api:
            await api.call("subscribe", events=["bulletin"])
            async for event in api.events():
                return event
        raise AssertionError("no event")

    event = asyncio.run(asyncio.wait_for(go(), 60))
    assert event["event"] == "bulletin" and len(event["data"]["id"]) == 16


def test_publish_needs_unlock_and_is_stored(simulated: DaemonProcess) -> None:
    assert simulated.cli("keys", "new", "Reporter").returncode == 0
    try:
        simulated.call("publish", kind="news", text="Вода будет завтра.")
        raise AssertionError("publish without unlock must fail")
    except ApiError as exc:
        assert exc.code == "locked"
    try:
        simulated.call("unlock", identity="Reporter", passphrase="wrong")
        raise AssertionError("wrong passphrase accepted")
    except ApiError as exc:
        assert exc.code == "wrong-passphrase"
    simulated.call("unlock", identity="Reporter", passphrase="test passphrase")
    result: Any = simulated.call("publish", kind="news", text="Вода будет завтра.")
    got: Any = simulated.call("get", id=result["id"])
    assert got["bulletin"]["text"] == "Вода будет завтра." and got["bulletin"]["source"] == "local"
    simulated.wait_for(
        lambda: simulated.call("get", id=result["id"])["bulletin"]["delivery"] != "queued"
    )  # type: ignore[index]
    size: Any = simulated.call("size", text="Вода будет завтра.")
    assert size["fits"] is True and size["airtime_ms"]["LONG_FAST"] > 0


def test_second_daemon_refused(simulated: DaemonProcess, tmp_path: Path) -> None:
    result = simulated.cli("daemon", "--simulate", "--socket", str(tmp_path / "other.sock"))
    assert result.returncode != 0 and "another jarshy daemon" in result.stderr


def test_acknowledged_publish_survives_kill_9(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path / "home", "--simulate")
    daemon.cli("keys", "new", "Reporter")
    daemon.call("unlock", identity="Reporter", passphrase="test passphrase")
    result: Any = daemon.call("publish", kind="news", text="Survives a crash.")
    os.kill(daemon.proc.pid, signal.SIGKILL)
    daemon.proc.wait(timeout=10)
    again = start_daemon(tmp_path / "home", "--simulate")
    try:
        got: Any = again.call("get", id=result["id"])
        assert got["bulletin"]["text"] == "Survives a crash."
    finally:
        assert again.stop() == 0


def test_cli_without_daemon_is_one_clear_line(tmp_path: Path) -> None:
    env = dict(os.environ, JARSHY_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "relay.cli", "status"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith("jarshy: no daemon at")
    assert "Traceback" not in result.stderr
