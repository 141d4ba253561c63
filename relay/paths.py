"""The one seam for where Jarshy keeps its files (override everything with JARSHY_HOME)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home() -> Path:
    """Root of all Jarshy state: ``$JARSHY_HOME`` or the platform's user data dir."""
    override = os.environ.get("JARSHY_HOME")
    base = Path(override) if override else Path(platformdirs.user_data_dir("jarshy"))
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    return base


def keystore_dir() -> Path:
    """Directory of encrypted identity files (0700)."""
    path = home() / "keys"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def database_path() -> Path:
    """SQLite store of bulletins, keys and trust decisions."""
    return home() / "jarshy.sqlite3"


def socket_path() -> Path:
    """Unix socket of the local API (``$JARSHY_SOCKET`` overrides)."""
    override = os.environ.get("JARSHY_SOCKET")
    return Path(override) if override else home() / "jarshy.sock"
