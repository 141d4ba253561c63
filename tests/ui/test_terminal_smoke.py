"""A real terminal: tmux runs `jarshy` with no arguments; the pane shows the simulated feed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_jarshy_opens_the_feed_in_a_terminal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    command = shutil.which("jarshy")
    argv = command if command else f"{sys.executable} -m relay.cli"
    session = f"jarshy-smoke-{os.getpid()}"
    env = f"JARSHY_HOME={home} JARSHY_SIM_INTERVAL=1 JARSHY_LANG=en PYTHONPATH={ROOT}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "30",
                    f"cd {ROOT} && env {env} {argv}"], check=True)  # fmt: skip
    try:
        pane = ""
        for _ in range(150):
            time.sleep(0.2)
            pane = subprocess.run(["tmux", "capture-pane", "-t", session, "-p"],
                                  capture_output=True, text=True, check=False).stdout  # fmt: skip
            if "TRUSTED" in pane and "SIMULATED" in pane:
                break
        assert "TRUSTED" in pane and "SIMULATED MESH" in pane, pane
        assert "Simulated news" in pane  # the author column, at 80 or 120 columns
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
        lock = home / "daemon.lock"
        if lock.exists() and lock.read_text().strip().isdigit():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(lock.read_text()), signal.SIGTERM)
