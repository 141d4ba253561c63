"""The official ``meshtastic`` CLI's operator commands complete against the emulator.

Each command runs as a subprocess (``python -m meshtastic --port ...``) against an emulated radio
on a pty, as an operator would run it against a radio on USB (issue 10 item 7).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from meshtastic.serial_interface import SerialInterface
from test_fidelity import meshtastic_cli

Emu = Any  # tests/radio/conftest.py:Emu


def run(emu: Emu, *args: str) -> str:
    done = meshtastic_cli("--port", emu.transport.path, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_export_config_completes(radios: Callable[..., Emu]) -> None:
    out = run(radios(0xA, name="Alpha", state_kw={"region": "KZ_863"}), "--export-config")
    assert "owner: Alpha" in out and "channel_url: https://meshtastic.org/e/#" in out
    assert "region: KZ_863" in out and "txPower: 30" in out  # the region's cap on a fresh radio
    assert "serialEnabled: true" in out


def test_sendtext_ack_alone_is_a_nak(radios: Callable[..., Emu]) -> None:
    out = run(radios(0xA), "--sendtext", "anyone?", "--ack")
    assert "Received a NAK, error reason: MAX_RETRANSMIT" in out


def test_sendtext_ack_with_a_neighbour_is_an_implicit_ack(radios: Callable[..., Emu]) -> None:
    emu, _neighbour = radios(0xA), radios(0xB)
    out = run(emu, "--sendtext", "hello", "--ack")
    assert "Received an implicit ACK" in out


def test_sendtext_ack_to_a_node_is_its_ack(radios: Callable[..., Emu]) -> None:
    emu, _neighbour = radios(0xA), radios(0xB)
    out = run(emu, "--sendtext", "hello", "--dest", "!0000000b", "--ack")
    assert "Received an ACK." in out  # the destination's own ACK, not the implicit one


def test_request_telemetry_is_answered(radios: Callable[..., Emu]) -> None:
    emu, _neighbour = radios(0xA), radios(0xB)
    remote = run(emu, "--request-telemetry", "--dest", "!0000000b")  # over the air
    local = run(emu, "--request-telemetry", "--dest", "!0000000a")  # by the radio itself
    for out in (remote, local):
        assert "Telemetry received:" in out and "Battery level: 101.00%" in out


def test_reboot_is_scheduled_as_asked(radios: Callable[..., Emu]) -> None:
    emu = radios(0xA)
    before = time.monotonic()
    run(emu, "--reboot")  # the CLI asks for a reboot in 10 s (AdminModule reboot_seconds)
    assert emu.radio.reboot_due is not None
    assert before + 5 < emu.radio.reboot_due <= time.monotonic() + 10


def test_factory_reset_restores_the_defaults(radios: Callable[..., Emu]) -> None:
    emu = radios(0xA, name="Configured", state_kw={"region": "KZ_863", "role": "ROUTER"})
    run(emu, "--factory-reset")
    state = emu.radio.state
    assert state.owner.long_name == "Meshtastic 000a"
    assert state.enum_name("lora", "region") == "UNSET"
    assert state.enum_name("device", "role") == "CLIENT"
    assert state.enum_name("device", "rebroadcast_mode") == "ALL"
    assert emu.radio.reboot_due is not None  # DEFAULT_REBOOT_SECONDS later


def test_a_reboot_drops_the_session_and_the_radio_comes_back(radios: Callable[..., Emu]) -> None:
    emu = radios(0xA)
    iface = SerialInterface(devPath=emu.transport.path, timeout=10)
    try:
        count = iface.myInfo.reboot_count
        iface.isConnected.clear()
        iface.localNode.reboot(0)  # reboot_seconds 0: now
        assert iface.isConnected.wait(10)  # told `rebooted`, handshook again
        assert emu.radio.reboots == 1 and iface.myInfo.reboot_count == count + 1
    finally:
        iface.close()


def test_a_config_commit_reboots_seven_seconds_later(radios: Callable[..., Emu]) -> None:
    emu = radios(0xA)
    iface = SerialInterface(devPath=emu.transport.path, timeout=10)
    try:
        node = iface.localNode
        node.beginSettingsTransaction()
        node.localConfig.device.node_info_broadcast_secs = 7200
        node.writeConfig("device")
        assert emu.radio.reboot_due is None  # inside a transaction: saved at the commit
        before = time.monotonic()
        node.commitSettingsTransaction()
        deadline = time.monotonic() + 10
        while emu.radio.reboot_due is None and time.monotonic() < deadline:
            time.sleep(0.02)  # the commit travels over the pty
        assert emu.radio.reboot_due is not None
        assert before + 6 < emu.radio.reboot_due <= time.monotonic() + 7
    finally:
        iface.close()
