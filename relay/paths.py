"""The one seam for where Jarshy keeps its files (override everything with JARSHY_HOME).

:class:`Paths` is a value: the daemon is built from one, so a test hands it a temporary
directory instead of setting environment variables.  The module functions (``home()``,
``socket_path()``, ...) are the CLI's: they read the environment each time, through
:meth:`Paths.from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True, slots=True)
class Paths:
    """Where one node's state lives: its home directory and the local API's socket."""

    home: Path
    socket: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Paths:
        """``$JARSHY_HOME`` (else the platform's user data dir) and ``$JARSHY_SOCKET``."""
        env = os.environ if env is None else env
        override = env.get("JARSHY_HOME")
        home = Path(override) if override else Path(platformdirs.user_data_dir("jarshy"))
        socket = env.get("JARSHY_SOCKET")
        return cls(home, Path(socket) if socket else home / "jarshy.sock")

    @classmethod
    def at(cls, home: Path, socket: Path | None = None) -> Paths:
        """A home directory, its socket inside it unless given."""
        return cls(home, socket if socket is not None else home / "jarshy.sock")

    def made(self) -> Paths:
        """The same paths, with the home directory created (0700) if it was missing."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self

    @property
    def keystore(self) -> Path:
        return self.home / "keys"

    @property
    def database(self) -> Path:
        return self.home / "jarshy.sqlite3"

    @property
    def lock(self) -> Path:
        return self.home / "daemon.lock"

    def store(self, simulated: bool) -> Path:
        """The daemon's SQLite store: simulated state lives apart from the real one."""
        return self.home / "simulated.sqlite3" if simulated else self.database

    def ignored(self, simulated: bool) -> Path:
        """The spam brake's list of radios our radio ignores (relay.radio_quarantine)."""
        return self.store(simulated).with_suffix(".ignored.json")


def home() -> Path:
    """Root of all Jarshy state: ``$JARSHY_HOME`` or the platform's user data dir."""
    return Paths.from_env().made().home


def keystore_dir() -> Path:
    """Directory of encrypted identity files (0700)."""
    path = Paths.from_env().made().keystore
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def database_path() -> Path:
    """SQLite store of bulletins, keys and trust decisions."""
    return Paths.from_env().made().database


def socket_path() -> Path:
    """Unix socket of the local API (``$JARSHY_SOCKET`` overrides)."""
    paths = Paths.from_env()
    return paths.socket if os.environ.get("JARSHY_SOCKET") else paths.made().socket
