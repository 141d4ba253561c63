"""The daemon in the test's own event loop (no subprocess): built, run, asked, stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from relay.api_client import ApiClient, NoDaemon
from relay.daemon import Daemon


async def test_the_daemon_runs_in_process_on_the_simulated_mesh(
    jarshy_home: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    import relay.daemon
    from relay.shutdown import shutdown_watchdog

    watchdogs: list[Any] = []

    def watched(loop: Any) -> Any:
        watchdogs.append(shutdown_watchdog(loop))
        return watchdogs[-1]

    monkeypatch.setattr(relay.daemon, "shutdown_watchdog", watched)
    monkeypatch.setenv("JARSHY_SIM_INTERVAL", "0.3")
    socket = tmp_path / "api.sock"
    daemon = Daemon(socket_path=socket, simulate=True)
    running = asyncio.create_task(daemon.run())
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    async with ApiClient(socket) as api:
                        status: Any = await api.call("status")
                        if status["link"]["state"] == "up" and status["counts"].get("trusted"):
                            break
                except NoDaemon:
                    pass
                await asyncio.sleep(0.2)
        assert daemon.core is not None and daemon.core.engine.items  # held, ready to relay
        assert status["simulated"] is True and status["untrusted"]["rows_limit"] == 2000
    finally:
        daemon.stop.set()
        assert await asyncio.wait_for(running, 30) == 0
        # its shutdown watchdog (os._exit after 20 s) must not outlive it: it would end pytest
        assert watchdogs and all(w.finished.is_set() for w in watchdogs)
