"""Open what a daemon runs on, in order, and build it: lock, store, keystore, simulated mesh.

`jarshy daemon` and the in-process tests build their daemon here alike; only the paths (and, for
tests, the simulated publishers' pace) differ.  A step that fails closes what the earlier ones
opened, so a refused start leaves no lock, store, radio or thread behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from relay.bridge.settings import BridgeSettings, load_settings
from relay.crypto.keystore import Keystore
from relay.daemon import Clocks, Daemon, LinkFactory, radio_link
from relay.errors import UserError
from relay.paths import Paths
from relay.radio.linktypes import parse_address
from relay.simulated import DEMO_NEWSROOM, SimulatedMesh
from relay.store import Store


class DaemonLock:
    """One daemon per home (``flock`` on ``daemon.lock``): never two on one store or radio."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> DaemonLock:
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the daemon's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise UserError(f"another jarshy daemon is running for {self.path.parent}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


async def open_daemon(
    paths: Paths,
    radio: str | None = None,
    *,
    simulate: bool = False,
    clocks: Clocks | None = None,
    link: LinkFactory = radio_link,
    keystore: Keystore | None = None,
    sim_interval: float | None = None,
    mirror: bool = False,
    bridge: BridgeSettings | str | None = None,
) -> Daemon:
    """A daemon on ``radio``, or on the simulated mesh when there is none (or ``simulate``).

    A malformed radio address raises ValueError before anything opens.  ``sim_interval`` sets
    the simulated publishers' pace (else ``$JARSHY_SIM_INTERVAL``, else 12 s). ``mirror``
    re-broadcasts trusted bulletins as plain text for the phone apps (docs/radio.md); so does
    ``$JARSHY_MIRROR=1`` (the setting for a service's environment). ``bridge`` joins this mesh to
    others over an MQTT broker: settings, or a URL (``jarshy daemon --bridge``); without it
    ``$JARSHY_BRIDGE`` or ``<home>/bridge.toml`` (relay.bridge.settings, docs/bridge.md)."""
    simulated = simulate or radio is None
    mirror = mirror or os.environ.get("JARSHY_MIRROR", "").lower() in ("1", "true", "yes", "on")
    if radio is not None:
        parse_address(radio)
    paths.made()
    if not isinstance(bridge, BridgeSettings):
        bridge = load_settings(paths.home, bridge)  # UserError on a bad setting, before the lock
    lock = DaemonLock(paths.lock).acquire()
    async with contextlib.AsyncExitStack() as undo:
        undo.callback(lock.release)
        store = Store(paths.store(simulated))
        undo.callback(store.close)
        keystore = keystore or Keystore(paths.keystore)
        simulation = None
        if simulated:
            simulation = SimulatedMesh()
            undo.push_async_callback(simulation.close)
            radio = simulation.start()  # reads $JARSHY_SIM_INTERVAL
            if sim_interval is not None:
                simulation.interval = sim_interval
        assert radio is not None
        daemon = Daemon(
            paths, keystore, store, radio, link=link, simulation=simulation, clocks=clocks,
            lock=lock, mirror=mirror, bridge=bridge,
        )  # fmt: skip
        if simulation is not None and not store.roots():
            wall = daemon.wall()
            daemon.ingest.add_root(DEMO_NEWSROOM.public_key, DEMO_NEWSROOM.name, wall)
        undo.pop_all()  # the daemon owns them now: it closes them when it has run
    return daemon
