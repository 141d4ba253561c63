"""The daemon built from its parts in the test's own event loop: no subprocess, no environment
variables, components there from construction on, the core woken by ``call_at``."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from relay.crypto.keystore import KDF_PRESETS, Keystore
from relay.daemon import Clocks
from relay.daemon_open import open_daemon
from relay.errors import UserError
from relay.paths import Paths
from tests.daemon.conftest import Node, running


async def test_built_from_its_parts_without_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("JARSHY_HOME", "JARSHY_SOCKET", "JARSHY_SIM_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "not-here"))  # platformdirs must not be asked
    paths = Paths.at(tmp_path / "home", tmp_path / "api.sock")
    ahead = 600.0  # the daemon's wall clock runs ten minutes ahead of this machine's
    keystore = Keystore(tmp_path / "home" / "keys", kdf=KDF_PRESETS["fast"])
    daemon = await open_daemon(
        paths,
        keystore=keystore,
        clocks=Clocks(monotonic=lambda: time.monotonic() + 1e6, wall=lambda: time.time() + ahead),
        sim_interval=0.3,
    )
    # every component exists before run(): nothing is None until started
    assert daemon.core.engine is not None and daemon.link is not None
    assert daemon.api.path == tmp_path / "api.sock" and daemon.transmitter.link is daemon.link
    assert daemon.store.path == str(tmp_path / "home" / "simulated.sqlite3")
    assert [name for _, _, name in daemon.store.roots()] == ["Simulated newsroom"]
    assert not (tmp_path / "not-here").exists()
    running_task = asyncio.create_task(daemon.run(signals=False))
    try:
        await asyncio.wait_for(daemon.started.wait(), 30)
        timer = daemon._timer
        assert timer is not None  # the core's next wake-up, moved onto the loop's clock
        assert timer.when() <= asyncio.get_running_loop().time() + 30.0
        node = Node(daemon, paths.home, paths.socket, dict(os.environ))
        status = await node.wait_for(lambda: trusted_and_up(node), timeout=30)
        assert daemon.core.engine.items  # held, ready to relay
        assert status["simulated"] is True and status["untrusted"]["rows_limit"] == 2000
        got = await node.call("query", statuses=["trusted"], limit=1)
        assert (
            got["bulletins"][0]["received_at"] > time.time() + ahead / 2
        )  # the clock it was given
    finally:
        daemon.stop.set()
        assert await asyncio.wait_for(running_task, 30) == 0
    assert daemon._timer is None and not paths.socket.exists()


async def trusted_and_up(node: Node) -> Any:
    status = await node.call("status")
    return status if status["link"]["state"] == "up" and status["counts"].get("trusted") else None


async def test_a_second_daemon_on_the_same_home_is_refused_and_opens_nothing(
    tmp_path: Path,
) -> None:
    async with running(tmp_path / "home") as node:
        with pytest.raises(UserError, match="another jarshy daemon is running"):
            await open_daemon(Paths.at(tmp_path / "home", tmp_path / "other.sock"))
        assert not (tmp_path / "other.sock").exists()
        assert (await node.call("hello"))["simulated"] is True


async def test_a_daemon_on_a_live_socket_closes_what_it_opened(tmp_path: Path) -> None:
    async with running(tmp_path / "home") as node:
        other = Paths.at(tmp_path / "other", node.socket)
        daemon = await open_daemon(other, sim_interval=60)
        with pytest.raises(UserError, match="already serving"):
            await daemon.run(signals=False)
        again = await open_daemon(other, sim_interval=60)  # the lock and store were let go
        again.stop.set()
        with pytest.raises(UserError, match="already serving"):
            await again.run(signals=False)
        assert await node.call("hello")  # and the first one still answers


async def test_the_shutdown_watchdog_does_not_outlive_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import relay.daemon
    from relay.shutdown import shutdown_watchdog

    watchdogs: list[Any] = []

    def watched(loop: Any) -> Any:
        watchdogs.append(shutdown_watchdog(loop))
        return watchdogs[-1]

    monkeypatch.setattr(relay.daemon, "shutdown_watchdog", watched)
    async with running(tmp_path / "home"):
        pass
    # its os._exit after 20 s would end pytest early with exit code 0
    assert watchdogs and all(w.finished.is_set() for w in watchdogs)
