"""`jarshy` with no arguments: open the UI, starting a daemon in the background if none answers."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from relay import paths
from relay.api_client import daemon_answers


def ensure_daemon(path: Path, timeout: float = 30.0) -> None:
    """Start `jarshy daemon` detached (log in $JARSHY_HOME/daemon.log) and wait for its socket."""
    if daemon_answers(path):
        return
    log = open(paths.home() / "daemon.log", "ab")  # noqa: SIM115 - handed to the child
    subprocess.Popen(
        [sys.executable, "-m", "relay.cli", "daemon", "--socket", str(path)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon_answers(path):
            return
        time.sleep(0.2)
    print(f"jarshy: the daemon did not start; see {paths.home() / 'daemon.log'}", file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    from tui.app import JarshyApp

    path = paths.socket_path()
    ensure_daemon(path)
    JarshyApp(path).run()
    return 0
