"""`jarshy channel new|join`: share URLs in meshtastic's format, accepted by the official CLI."""

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


def test_new_prints_a_url_with_a_random_32_byte_key_and_a_qr_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, out = new_channel(capsys, "Jarshy")
    assert url.startswith("https://meshtastic.org/e/#") and "=" not in url
    assert "█" in out or "▀" in out  # the terminal QR code
    share = parse_url(url)
    assert share.channels[0].name == "Jarshy" and len(share.channels[0].psk) == 32
    assert share.lora.use_preset and share.lora.modem_preset == 0  # LONG_FAST
    other, _ = new_channel(capsys, "Jarshy", "--no-qr")
    assert parse_url(other).channels[0].psk != share.channels[0].psk


def test_new_with_a_region_carries_its_legal_power(capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = new_channel(capsys, "Jarshy", "--region", "KZ_863", "--no-qr")
    assert parse_url(url).lora.tx_power == 14


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a-very-long-channel-name"], "1 to 11 bytes"),
        (["J", "--preset", "FAST"], "unknown preset"),
    ],
)
def test_new_refuses_bad_names_and_presets(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["channel", "new", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_official_cli_accepts_the_url(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="KZ_863", tx_power=14)
    url, _ = new_channel(capsys, "Jarshy", "--region", "KZ_863", "--no-qr")
    port = r.address.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "meshtastic", "--host", f"127.0.0.1:{port}", "--seturl", url],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    primary = r.state.channels[0]
    assert primary.settings.name == "Jarshy" and primary.settings.psk == parse_url(url).channels[0].psk  # fmt: skip
    assert r.state.enum_name("lora", "region") == "KZ_863" and r.state.config.lora.tx_power == 14


def test_join_writes_the_channel_and_keeps_region_and_power(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="KZ_863", tx_power=14)
    key = bytes(range(32))
    url = make_url("Jarshy", key, preset="MEDIUM_FAST")
    assert main(["channel", "join", url, "--radio", r.address]) == 0
    assert "joined channel 'Jarshy' (sha256:" in capsys.readouterr().out
    assert r.state.channels[0].settings.psk == key and r.state.channels[0].role == 1
    assert r.state.enum_name("lora", "modem_preset") == "MEDIUM_FAST"
    assert r.state.enum_name("lora", "region") == "KZ_863" and r.state.config.lora.tx_power == 14
    assert r.admin.commits == 1
    writes = r.admin.writes
    assert main(["channel", "join", url, "--radio", r.address]) == 0
    assert r.admin.writes == writes  # already on it: nothing rewritten


def test_join_refuses_what_is_not_a_channel_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["channel", "join", "https://example.org/#abc", "--radio", "tcp:127.0.0.1:1"]) == 2
    assert "a channel URL looks like https://meshtastic.org/e/#" in capsys.readouterr().err
