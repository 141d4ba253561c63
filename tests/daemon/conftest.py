"""Fixtures: real daemons in subprocesses, real sockets, real emulated radios on a shared medium."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from relay.api_client import ApiClient, NoDaemon

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DaemonProcess:
    home: Path
    socket: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str]

    def call(self, method: str, **params: object) -> object:
        async def go() -> object:
            async with ApiClient(self.socket) as api:
                return await api.call(method, **params)

        return asyncio.run(go())

    def cli(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "relay.cli", *argv], env=self.env, cwd=ROOT,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def wait_for(self, predicate: object, timeout: float = 30.0) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()  # type: ignore[operator]
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError("condition not met in time")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def start_daemon(home: Path, *args: str) -> DaemonProcess:
    env = dict(os.environ)
    env.update(JARSHY_HOME=str(home), JARSHY_KDF="fast", JARSHY_PASSPHRASE="test passphrase")
    env.setdefault("JARSHY_SIM_INTERVAL", "1")  # simulated publishers every second
    env["PYTHONPATH"] = str(ROOT)
    socket_path = home / "api.sock"
    env["JARSHY_SOCKET"] = str(socket_path)  # so `jarshy send/read/status` find this daemon
    home.mkdir(parents=True, exist_ok=True)
    log = open(home / "daemon.log", "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "daemon", "--socket", str(socket_path), *args],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    daemon = DaemonProcess(home, socket_path, proc, env)

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError((home / "daemon.log").read_text())
        try:
            return bool(daemon.call("hello"))
        except (NoDaemon, OSError):
            return False

    daemon.wait_for(ready, timeout=30)
    return daemon


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[DaemonProcess]:
    daemon = start_daemon(tmp_path / "home", "--simulate")
    yield daemon
    assert daemon.stop() == 0, (daemon.home / "daemon.log").read_text()
