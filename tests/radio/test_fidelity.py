"""Fidelity proof: the official ``meshtastic`` CLI, as a subprocess, against the emulator.

If the real client accepts the emulator over a pty and over TCP, and a text it sends reaches an
emulated peer, the emulator speaks the client protocol closely enough for Jarshy's tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meshtastic.protobuf import portnums_pb2
from meshtastic.tcp_interface import TCPInterface

Emu = Any  # tests/radio/conftest.py:Emu
REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 45


def meshtastic_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meshtastic", *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def test_official_cli_info_over_pty(radios: Callable[..., Emu]) -> None:
    emu = radios(0x1234ABCD, name="Emulated Alpha")
    done = meshtastic_cli("--port", emu.transport.path, "--info")
    assert done.returncode == 0, done.stderr
    assert "Owner: Emulated Alpha" in done.stdout
    assert '"myNodeNum": 305441741' in done.stdout
    assert "2.7.18" in done.stdout
    assert "EU_868" in done.stdout  # the local node's config printed by --info


def test_official_cli_sendtext_reaches_a_peer(radios: Callable[..., Emu]) -> None:
    emu, peer = radios(0xA), radios(0xB, transport="tcp")
    done = meshtastic_cli("--port", emu.transport.path, "--sendtext", "hi")
    assert done.returncode == 0, done.stderr
    got = peer.radio.wait_heard(lambda p: p.decoded.portnum == portnums_pb2.TEXT_MESSAGE_APP)
    assert got is not None and got.decoded.payload == b"hi" and getattr(got, "from") == 0xA


def test_official_cli_info_over_tcp(radios: Callable[..., Emu]) -> None:
    emu = radios(0xC, name="Over TCP", transport="tcp")
    done = meshtastic_cli("--host", f"127.0.0.1:{emu.transport.port}", "--info")
    assert done.returncode == 0, done.stderr
    assert "Owner: Over TCP" in done.stdout


def test_jarshy_radio_emulate_command(tmp_path: Path) -> None:
    script = (
        "import argparse, sys\n"
        "from relay.cli import radio\n"
        "p = argparse.ArgumentParser(); s = p.add_subparsers(); radio.register(s)\n"
        "a = p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", script, "radio", "emulate", "--tcp", "0", "--name", "CLI radio"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("emulated radio !"), first
        port = int(first.rsplit(":", 1)[1])
        iface = TCPInterface("127.0.0.1", portNumber=port, timeout=10)
        try:
            assert iface.getLongName() == "CLI radio"
        finally:
            iface.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
