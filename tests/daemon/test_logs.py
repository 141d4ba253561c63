"""Daemon logs: timestamps on a terminal; syslog priorities and no timestamps under journald."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.daemon.conftest import ROOT

SCRIPT = """
import logging, sys
from relay.logs import configure_logging
configure_logging()
logging.getLogger("jarshy.test").warning("radio lost\\nsecond line")
logging.getLogger("jarshy.test").info("radio up")
"""


def run_logging(tmp_path: Path, journal: bool) -> str:
    out = tmp_path / ("journal" if journal else "terminal")
    with out.open("wb") as stderr:
        st = os.fstat(stderr.fileno())
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("JOURNAL_STREAM", None)
        if journal:
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        subprocess.run([sys.executable, "-c", SCRIPT], stderr=stderr, env=env, cwd=ROOT,
                       timeout=30, check=True)  # fmt: skip
    return out.read_text()


def test_journal_lines_carry_priorities_and_no_timestamps(tmp_path: Path) -> None:
    assert run_logging(tmp_path, journal=True).splitlines() == [
        "<4>jarshy.test: radio lost",
        "<4>second line",
        "<6>jarshy.test: radio up",
    ]


def test_terminal_lines_carry_timestamps_and_levels(tmp_path: Path) -> None:
    first = run_logging(tmp_path, journal=False).splitlines()[0]
    assert first[:2] == "20" and "WARNING jarshy.test: radio lost" in first
