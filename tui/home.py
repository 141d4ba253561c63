"""Where the daemon lives, by the daemon's own rule: the UI's launcher and its screens ask here."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def jarshy_home() -> Path:
    """$JARSHY_HOME or the platform's user data dir (the same rule as the daemon's)."""
    override = os.environ.get("JARSHY_HOME")
    return Path(override) if override else Path(platformdirs.user_data_dir("jarshy"))


def default_socket() -> Path:
    """$JARSHY_SOCKET, else jarshy.sock in the Jarshy home (the API's documented default)."""
    override = os.environ.get("JARSHY_SOCKET")
    return Path(override) if override else jarshy_home() / "jarshy.sock"
