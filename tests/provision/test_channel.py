"""`jarshy channel new|join`: share URLs in meshtastic's format, accepted by the official CLI; the
add-channel form keeps the user's primary channel (and with it the public frequency slot)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from relay.cli import main
from relay.provision.channel import make_url, parse_url


def new_channel(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    assert main(["channel", "new", *args]) == 0
    out = capsys.readouterr().out
    return out.splitlines()[0], out


def official_cli(r: Any, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "meshtastic", "--port", r.transport.path, *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_new_prints_an_add_url_with_a_random_32_byte_key_and_a_qr_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, out = new_channel(capsys, "Jarshy", "--region", "KZ_863")
    assert url.startswith("https://meshtastic.org/e/?add=true#") and "=" not in url.split("#")[1]
    assert "█" in out or "▀" in out  # the terminal QR code
    assert "keeps the public frequency" in out
    share = parse_url(url)
    assert share.add and share.channels[0].name == "Jarshy" and len(share.channels[0].psk) == 32
    assert share.lora.use_preset and share.lora.modem_preset == 0  # LONG_FAST
    assert share.lora.region == 24 and share.lora.tx_power == 14 and share.lora.channel_num == 0
    other, _ = new_channel(capsys, "Jarshy", "--region", "KZ_863", "--no-qr")
    assert parse_url(other).channels[0].psk != share.channels[0].psk


def test_new_isolated_prints_a_replacing_url_with_the_slot_pinned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, out = new_channel(capsys, "Jarshy", "--region", "KZ_863", "--isolated", "--no-qr")
    share = parse_url(url)
    assert url.startswith("https://meshtastic.org/e/#") and not share.add
    assert share.lora.channel_num == 7 and "frequency slot 7 pinned" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a-very-long-channel-name", "--region", "US"], "1 to 11 bytes"),
        (["J", "--preset", "FAST", "--region", "US"], "unknown preset"),
        (["Jarshy"], "--region is needed (e.g. --region KZ_863)"),
    ],
)
def test_new_refuses_bad_names_presets_and_a_missing_region(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["channel", "new", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_official_cli_adds_the_channel_and_keeps_the_primary(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="KZ_863", tx_power=14)
    url, _ = new_channel(capsys, "Jarshy", "--region", "KZ_863", "--no-qr")
    official_cli(r, "--ch-add-url", url)
    primary, added = r.state.channels[0], r.state.channels[1]
    assert primary.settings.name == "" and primary.settings.psk == b"\x01" and primary.role == 1
    assert added.settings.name == "Jarshy" and added.role == 2
    assert added.settings.psk == parse_url(url).channels[0].psk
    assert r.state.enum_name("lora", "region") == "KZ_863" and r.state.config.lora.tx_power == 14


def test_the_official_cli_accepts_the_isolated_url(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="KZ_863", tx_power=14)
    url, _ = new_channel(capsys, "Jarshy", "--region", "KZ_863", "--isolated", "--no-qr")
    official_cli(r, "--seturl", url)
    primary = r.state.channels[0]
    assert primary.settings.name == "Jarshy" and primary.settings.psk == parse_url(url).channels[0].psk  # fmt: skip
    assert r.state.config.lora.channel_num == 7 and r.state.config.lora.tx_power == 14


def test_join_adds_the_channel_next_to_the_primary_and_keeps_region_and_power(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="KZ_863", tx_power=14, channel_name="Family", psk=bytes(16))
    key = bytes(range(32))
    url = make_url("Jarshy", key, preset="MEDIUM_FAST", region="KZ_863", tx_power=14, add=True)
    assert main(["channel", "join", url, "--radio", r.address]) == 0
    assert "joined channel 'Jarshy' (sha256:" in capsys.readouterr().out
    assert r.state.channels[0].settings.name == "Family"  # the user's primary stays
    assert r.state.channels[1].settings.psk == key and r.state.channels[1].role == 2
    assert r.state.enum_name("lora", "modem_preset") == "LONG_FAST"  # an add URL keeps the modem
    assert r.state.enum_name("lora", "region") == "KZ_863" and r.state.config.lora.tx_power == 14
    assert r.admin.commits == 1
    writes = r.admin.writes
    assert main(["channel", "join", url, "--radio", r.address]) == 0
    assert r.admin.writes == writes  # already on it: nothing rewritten


def test_join_with_a_replacing_url_writes_the_primary_and_the_preset(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="KZ_863", tx_power=14)
    key = bytes(range(32))
    url = make_url("Jarshy", key, preset="MEDIUM_FAST", region="KZ_863", channel_num=7)
    assert main(["channel", "join", url, "--radio", r.address]) == 0
    assert "as the primary" in capsys.readouterr().out
    assert r.state.channels[0].settings.psk == key and r.state.channels[0].role == 1
    assert r.state.enum_name("lora", "modem_preset") == "MEDIUM_FAST"
    assert r.state.config.lora.channel_num == 7 and r.state.config.lora.tx_power == 14


def test_join_refuses_a_router_that_would_drop_every_bulletin(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(role="ROUTER", region="KZ_863")  # CORE_PORTNUMS_ONLY, as the firmware sets it
    url = make_url("Jarshy", bytes(range(32)), region="KZ_863", add=True)
    assert main(["channel", "join", url, "--radio", r.address]) == 2
    err = capsys.readouterr().err
    assert "rebroadcast_mode is CORE_PORTNUMS_ONLY" in err and "nothing was written" in err
    assert r.admin.writes == 0


def test_join_refuses_what_is_not_a_channel_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["channel", "join", "https://example.org/#abc", "--radio", "tcp:127.0.0.1:1"]) == 2
    assert "a channel URL looks like https://meshtastic.org/e/?add=true#" in capsys.readouterr().err
