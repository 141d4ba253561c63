"""Fixtures: real daemons in the test's own event loop (most tests) or in subprocesses (what only
the real process shows: signals, the lock, exit codes, kill -9), real sockets, real emulated radios
on a shared medium."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from relay.api_client import ApiClient, NoDaemon
from relay.crypto.keys import Identity
from relay.crypto.keystore import KDF_PRESETS, Keystore
from relay.daemon import Daemon
from relay.daemon_open import open_daemon
from relay.paths import Paths

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


PASSPHRASE = "test passphrase"


@dataclass
class Node:
    """A daemon running in the test's event loop, reached through its real API socket."""

    daemon: Daemon
    home: Path
    socket: Path
    env: dict[str, str]  # for CLI subprocesses: this home, this socket, a fast KDF

    async def call(self, method: str, **params: object) -> Any:
        async with ApiClient(self.socket) as api:
            return await api.call(method, **params)

    async def cli(self, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`jarshy ARGV` in a subprocess against this daemon (the loop serves it meanwhile);
        ``env`` adds to or overrides its environment."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "relay.cli", *argv, env={**self.env, **env}, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode is not None
        return subprocess.CompletedProcess(argv, proc.returncode, out.decode(), err.decode())

    def new_identity(self, name: str) -> Identity:
        """An identity in this node's keystore (passphrase ``PASSPHRASE``), as `keys new` makes."""
        return self.daemon.keystore.create(name, PASSPHRASE)

    async def wait_for(
        self, predicate: Callable[[], Awaitable[Any]], timeout: float = 30.0, every: float = 0.05
    ) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                value = await predicate()
                if value:
                    return value
                await asyncio.sleep(every)


@asynccontextmanager
async def running(
    home: Path,
    radio: str | None = None,
    sim_interval: float = 1.0,
    mirror: bool = False,
    bridge: Any = None,
    roots: tuple[bytes, ...] = (),
) -> AsyncIterator[Node]:
    """A daemon built on ``home`` (simulated mesh unless ``radio``; joined to a broker by
    ``bridge``; trusting ``roots``, public keys), run until the block ends; it must then stop
    cleanly (exit code 0, its tasks and the shutdown watchdog done)."""
    paths = Paths.at(home, home / "api.sock")
    keystore = Keystore(paths.made().keystore, kdf=KDF_PRESETS["fast"])
    daemon = await open_daemon(
        paths, radio, keystore=keystore, sim_interval=sim_interval, mirror=mirror, bridge=bridge
    )
    for key in roots:
        daemon.ingest.add_root(key, "Newsroom", daemon.wall())
    task = asyncio.create_task(daemon.run(signals=False))
    started = asyncio.create_task(daemon.started.wait())
    await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED, timeout=30)
    if not started.done():
        started.cancel()
        await task  # raises what stopped it
        raise AssertionError("the daemon stopped before it started")
    env = dict(os.environ)
    env.update(JARSHY_HOME=str(home), JARSHY_SOCKET=str(paths.socket), JARSHY_KDF="fast",
               JARSHY_PASSPHRASE=PASSPHRASE, PYTHONPATH=str(ROOT))  # fmt: skip
    try:
        yield Node(daemon, home, paths.socket, env)
    finally:
        daemon.stop.set()
        assert await asyncio.wait_for(task, 30) == 0


@pytest_asyncio.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    """One simulated daemon per test, in process (publishers every second)."""
    async with running(tmp_path / "home") as daemon:
        yield daemon
