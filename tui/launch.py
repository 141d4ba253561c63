"""`jarshy` with no arguments: open the UI, starting a daemon in the background if none answers.

The daemon is `python -m relay.cli daemon`, detached into its own session with its log in
$JARSHY_HOME/daemon.log; it picks the simulated mesh itself when no radio is configured.  The UI
waits a bounded time for its socket, then opens (and keeps retrying, with a banner, if needed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from relay.api_client import daemon_answers
from tui.home import default_socket, jarshy_home

START_TIMEOUT = 20.0


def start_daemon(path: Path) -> subprocess.Popen[bytes]:
    """`jarshy daemon --socket PATH` in the background, its output appended to daemon.log."""
    home = jarshy_home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(home / "daemon.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "relay.cli", "daemon", "--socket", str(path)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip


def ensure_daemon(path: Path, timeout: float = START_TIMEOUT) -> bool:
    """True once a daemon answers on ``path``, starting one if none does (bounded wait)."""
    if daemon_answers(path):
        return True
    print(f"jarshy: starting the daemon (log: {jarshy_home() / 'daemon.log'})…", file=sys.stderr)
    child = start_daemon(path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon_answers(path):
            return True
        if child.poll() is not None:  # it exited: maybe another daemon won the race
            return daemon_answers(path)
        time.sleep(0.1)
    return False


def main(args: argparse.Namespace) -> int:
    from tui.app import JarshyApp

    path = Path(getattr(args, "socket", None) or default_socket())
    if not ensure_daemon(path):
        log = jarshy_home() / "daemon.log"
        print(f"jarshy: the daemon did not answer on {path}; see {log}", file=sys.stderr)
        return 1
    app = JarshyApp(path)
    app.run()
    note = left_running(path, app.lang)
    if note:
        print(note, file=sys.stderr)
    return 0


def left_running(path: Path, lang: str) -> str | None:
    """What to say on quitting when a daemon keeps running (relaying) on ``path``, else None."""
    from tui.i18n import t

    return t("daemon_left", lang, socket=path) if daemon_answers(path) else None
