"""The panic wipe without a daemon: relay.wipe, `jarshy wipe`, the duress passphrase."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from relay.crypto.keystore import KDF_PRESETS, DuressEntered, Keystore, KeystoreError
from relay.ingest import Ingest
from relay.store import Store
from relay.wipe import WipeRefused, check_home, wipe_home
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind

ROOT = Path(__file__).resolve().parents[1]
PASS = "correct horse"
SECRET_TEXT = "Встреча у моста в 19:00 — секретный маршрут"


def make_home(home: Path) -> tuple[Keystore, bytes]:
    """A home with one identity, a store holding one of its bulletins, a log and a config.
    Returns the keystore and the identity's seed + the bulletin's signature (both secret-ish
    bytes a scan must not find)."""
    keystore = Keystore(home / "keys", kdf=KDF_PRESETS["fast"])
    identity = keystore.create("Newsroom", PASS)
    store = Store(home / "jarshy.sqlite3")
    ingest = Ingest(store)
    ingest.learn_key(identity.public_key, 1.7e9)
    content = Content(kind=Kind.NEWS, author=identity.key_id, created=1_700_000_000,
                      lang="ru", text=SECRET_TEXT)  # fmt: skip
    signed = wire.sign(content, identity)
    ingest.ingest(signed.raw, 1.7e9, "local")
    store.close()
    (home / "daemon.log").write_text(f"log line about {SECRET_TEXT}\n")
    (home / "config.toml").write_text('radio = "serial:auto"\n')
    return keystore, identity.seed + signed.raw[-64:]


def leftovers(home: Path) -> bytes:
    """Every byte still readable under ``home`` (empty when it is gone)."""
    if not home.exists():
        return b""
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file() and not p.is_symlink())


def assert_nothing_readable(home: Path, seed: bytes) -> None:
    data = leftovers(home)
    for secret in (seed[:32], seed[32:]):
        assert secret not in data and secret.hex().encode() not in data
    assert SECRET_TEXT.encode() not in data and b"Newsroom" not in data
    assert not home.exists()


def test_wipe_home_leaves_nothing_and_overwrites_in_place(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _, seed = make_home(home)
    assert SECRET_TEXT.encode() in leftovers(home) and seed[32:] in leftovers(home)
    # A descriptor opened before the wipe still sees the file's inode: it must hold only zeros
    # (an unlink alone would leave the bytes on disk for anyone who can read the device).
    with open(home / "daemon.log", "rb") as held:
        report = wipe_home(home)
        held.seek(0)
        assert held.read() == b""
    assert report.files >= 4 and not report.failed
    assert_nothing_readable(home, seed)


def test_wipe_never_follows_a_link_out_of_home(tmp_path: Path) -> None:
    home, outside = tmp_path / "home", tmp_path / "precious.txt"
    make_home(home)
    outside.write_text("keep me")
    (home / "link").symlink_to(outside)
    wipe_home(home)
    assert outside.read_text() == "keep me" and not home.exists()


def test_wipe_refuses_what_is_not_a_jarshy_home(tmp_path: Path) -> None:
    other = tmp_path / "photos"
    other.mkdir()
    (other / "a.jpg").write_bytes(b"x")
    for home in (other, Path.home(), Path("/"), tmp_path / "missing"):
        with pytest.raises(WipeRefused):
            check_home(home)
    assert (other / "a.jpg").exists()


def cli(home: Path, *argv: str, passphrase: str = PASS) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JARSHY_HOME": str(home), "JARSHY_KDF": "fast",
           "JARSHY_PASSPHRASE": passphrase, "PYTHONPATH": str(ROOT)}  # fmt: skip
    env.pop("JARSHY_SOCKET", None)
    return subprocess.run(
        [sys.executable, "-m", "relay.cli", *argv], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_cli_wipe_needs_yes_without_a_terminal_then_wipes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _, seed = make_home(home)
    refused = cli(home, "wipe")
    assert refused.returncode != 0 and "--yes" in refused.stderr and home.exists()
    done = cli(home, "wipe", "--yes")
    assert done.returncode == 0, done.stderr
    assert "wiped" in done.stdout and "full-disk encryption" in done.stdout
    assert_nothing_readable(home, seed)


def test_duress_passphrase_wipes_instead_of_unlocking(tmp_path: Path) -> None:
    home = tmp_path / "home"
    keystore, seed = make_home(home)
    with pytest.raises(KeystoreError, match="different duress"):
        keystore.set_duress(PASS)  # it would unlock, never wipe
    keystore.set_duress("under duress")
    assert keystore.has_duress()
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        keystore.unlock("Newsroom", "a plain mistake")
    assert home.exists()  # an ordinary wrong passphrase wipes nothing
    with pytest.raises(DuressEntered, match="wrong passphrase for identity 'Newsroom'"):
        keystore.unlock("Newsroom", "under duress")
    assert_nothing_readable(home, seed)


def test_duress_through_the_cli_prompt_and_clear(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _, seed = make_home(home)
    assert cli(home, "keys", "duress", passphrase="panic now").returncode == 0
    assert "none was set" not in cli(home, "keys", "duress", "--clear").stdout
    assert "none was set" in cli(home, "keys", "duress", "--clear").stdout
    assert cli(home, "keys", "duress", passphrase="panic now").returncode == 0
    signed = cli(home, "keys", "export", "Newsroom")
    assert signed.returncode == 0  # public parts need no passphrase: nothing wiped
    unlock = cli(home, "keys", "revoke", passphrase="panic now")
    assert unlock.returncode != 0 and "wrong passphrase" in unlock.stderr
    assert_nothing_readable(home, seed)


def test_a_damaged_duress_file_never_wipes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    keystore, _ = make_home(home)
    keystore.set_duress("under duress")
    document = keystore.duress_file.read_text()
    keystore.duress_file.write_text(document.replace('"hash": "', '"hash": "zz'))
    with pytest.raises(KeystoreError, match="wrong passphrase") as caught:
        keystore.unlock("Newsroom", "under duress")
    assert not isinstance(caught.value, DuressEntered)
    assert (home / "keys" / "Newsroom.key").exists() and (home / "jarshy.sqlite3").exists()
    assert keystore.unlock("Newsroom", PASS).name == "Newsroom"


def test_the_cli_duress_hook_wipes_like_jarshy_wipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relay.cli.wipe import wipe_on_duress

    home = tmp_path / "home"
    make_home(home)
    monkeypatch.setenv("JARSHY_HOME", str(home))
    monkeypatch.delenv("JARSHY_SOCKET", raising=False)
    keystore = Keystore(home / "keys", kdf=KDF_PRESETS["fast"], on_duress=wipe_on_duress)
    keystore.set_duress("under duress")
    with pytest.raises(DuressEntered):
        keystore.unlock("Newsroom", "under duress")
    assert not home.exists()
