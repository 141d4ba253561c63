"""The [meshtastic] table of bridge.toml: the channel key, this island's root, downlink roots."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from relay.bridge.settings import load_settings
from relay.errors import UserError

PSK = base64.b64encode(bytes(range(16))).decode()


def write(home: Path, table: str) -> None:
    (home / "bridge.toml").write_text(f'url = "mqtt://127.0.0.1/kz"\n\n[meshtastic]\n{table}')


def test_the_meshtastic_table(tmp_path: Path) -> None:
    write(tmp_path, f'psk = "base64:{PSK}"\nroot = "msh/almaty"\ndownlink = ["msh/taraz"]\n'
                    'node = "!4a000001"\n')  # fmt: skip
    settings = load_settings(tmp_path, env={})
    assert settings is not None and settings.meshtastic is not None
    mesh = settings.meshtastic
    assert mesh.channel.name == "Jarshy" and mesh.channel.encrypted
    assert (mesh.root, mesh.downlink_roots, mesh.node) == ("msh/almaty", ("msh/taraz",), 0x4A000001)
    assert PSK not in repr(settings)
    write(tmp_path, 'root = "msh/almaty"\n')
    from_env = load_settings(tmp_path, env={"JARSHY_BRIDGE_MESHTASTIC_PSK": PSK})
    assert from_env is not None and from_env.meshtastic is not None


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('root = "msh/a"\n', "needs psk"),
        (f'psk = "{PSK}"\nroot = "msh/a"\ndownlink = ["msh/a"]\n', "not this island's own root"),
        (f'psk = "{PSK}"\nroot = "msh/#"\n', "meshtastic"),
        (f'psk = "{PSK}"\nnode = "4a000001"\n', "node id"),
        (f'psk = "{PSK}"\nchanel = "Jarshy"\n', "unknown \\[meshtastic\\] setting 'chanel'"),
        ('psk = "not base64!"\n', "base64"),
    ],
)
def test_bad_meshtastic_settings_are_one_line_errors(
    tmp_path: Path, table: str, error: str
) -> None:
    write(tmp_path, table)
    with pytest.raises(UserError, match=error):
        load_settings(tmp_path, env={})


async def test_a_bad_bridge_stops_the_daemon_start_before_anything_opens(tmp_path: Path) -> None:
    from relay.daemon_open import DaemonLock, open_daemon
    from relay.paths import Paths

    paths = Paths.at(tmp_path / "home")
    with pytest.raises(UserError, match="no password in the URL"):
        await open_daemon(paths, "tcp:127.0.0.1:1", bridge="mqtts://gw:secret@broker/kz")
    DaemonLock(paths.lock).acquire().release()  # no lock left behind
    assert not paths.database.exists()  # nor a store


def test_jarshy_daemon_bridge_flag_reaches_the_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`jarshy daemon --bridge URL` is checked like JARSHY_BRIDGE: a password in the URL (it would
    show in `ps`) is one line on stderr and a failed start, before a store or lock exists."""
    from relay.cli import main
    from relay.paths import Paths

    monkeypatch.setenv("JARSHY_HOME", str(tmp_path / "home"))
    code = main(["daemon", "--simulate", "--bridge", "mqtts://gw:secret@broker/kz"])
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and "no password in the URL" in err
    assert "secret" not in err
    assert not Paths.at(tmp_path / "home").database.exists()


def test_a_daemon_without_a_bridge_imports_no_mqtt_client() -> None:
    """A relay with no bridge does not pay for the MQTT client and AES (≈ 12 MB on a Pi)."""
    import subprocess
    import sys

    probe = (
        "import sys, relay.cli.daemon, relay.daemon_open; "
        "print(sorted(m for m in ('aiomqtt', 'paho', 'cryptography') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
