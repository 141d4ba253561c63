"""The daemon end to end: API, simulated mesh, publishing, lock, shutdown and crash safety.

In process where that shows the same (the API on its real socket, the simulated mesh); in a
subprocess for what only the real process shows (signals, exit codes, kill -9)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from relay.api_client import ApiClient, ApiError
from tests.daemon.conftest import PASSPHRASE, ROOT, Node, running, start_daemon


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


async def test_api_survives_malformed_requests(node: Node) -> None:
    assert oct(node.socket.stat().st_mode & 0o777) == "0o600"
    oversized = b'{"id": 9, "method": "hello", "pad": "' + b"x" * 100_000 + b'"}\n'
    replies = await asyncio.to_thread(
        raw_exchange,
        node.socket,
        b"not json\n[1,2]\n" + oversized + b'{"id": 3, "method": "nope"}\n'
        b'{"id": 4, "method": "get", "params": {"id": "zz"}}\n{"id": 5, "method": "hello"}\n',
        6,
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


async def test_simulated_feed_fills_with_every_verdict(tmp_path: Path) -> None:
    async with running(tmp_path / "home", sim_interval=0.3) as node:

        async def statuses() -> bool:
            result = await node.call("query", limit=100)
            shown = {b["status"] for b in result["bulletins"]}
            return {"trusted", "unknown_key", "invalid"} <= shown

        await node.wait_for(statuses, timeout=60)
        status = await node.call("status")
    assert status["link"]["simulated"] is True and status["link"]["state"] == "up"
    assert status["radio"]["region"] == "KZ_863"


async def test_subscribe_gets_bulletin_events(node: Node) -> None:
    async def go() -> dict[str, Any]:
        async with ApiClient(node.socket) as api:
            await api.call("subscribe", events=["bulletin"])
            async for event in api.events():
                return event
        raise AssertionError("no event")

    event = await asyncio.wait_for(go(), 60)
    assert event["event"] == "bulletin" and len(event["data"]["id"]) == 16


async def error_code(node: Node, method: str, **params: Any) -> str:
    try:
        await node.call(method, **params)
    except ApiError as exc:
        return exc.code
    raise AssertionError(f"{method} {params} succeeded")


async def test_publish_needs_unlock_and_is_stored(node: Node) -> None:
    node.new_identity("Reporter")
    assert await error_code(node, "publish", kind="news", text="Вода будет завтра.") == "locked"
    wrong = await error_code(node, "unlock", identity="Reporter", passphrase="wrong")
    assert wrong == "wrong-passphrase"
    await node.call("unlock", identity="Reporter", passphrase=PASSPHRASE)
    result = await node.call("publish", kind="news", text="Вода будет завтра.")
    got = await node.call("get", id=result["id"])
    assert got["bulletin"]["text"] == "Вода будет завтра." and got["bulletin"]["source"] == "local"

    async def left_the_queue() -> bool:
        return (await node.call("get", id=result["id"]))["bulletin"]["delivery"] != "queued"

    await node.wait_for(left_the_queue)
    size = await node.call("size", text="Вода будет завтра.")
    assert size["fits"] is True and size["airtime_ms"]["LONG_FAST"] > 0


async def test_second_daemon_refused(node: Node, tmp_path: Path) -> None:
    """The real process: a second `jarshy daemon` on the same home exits 2 with one line."""
    result = await node.cli("daemon", "--simulate", "--socket", str(tmp_path / "other.sock"))
    assert result.returncode == 2 and "another jarshy daemon" in result.stderr
    assert "Traceback" not in result.stderr


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


def test_sigterm_shuts_down_in_order(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path / "home", "--simulate")
    lock = daemon.home / "daemon.lock"
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=30) == 0
    log = (daemon.home / "daemon.log").read_text()
    assert "shutting down" in log and "stopped" in log and "Traceback" not in log
    assert not daemon.socket.exists()
    with lock.open("a") as handle:  # the lock is free for the next daemon
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
