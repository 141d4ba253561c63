"""relay.crypto.keystore against real files under a temporary JARSHY_HOME."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from relay.crypto import keystore as keystore_module
from relay.crypto.keys import decode_share, verify
from relay.crypto.keystore import (
    KDF_PRESETS,
    CorruptKeyFile,
    KdfParams,
    KeyNotFound,
    Keystore,
    KeystoreError,
    PassphraseUnavailable,
    WeakPassphrase,
    WrongPassphrase,
    check_new_passphrase,
    get_passphrase,
    kdf_from_env,
)
from relay.errors import UserError

PASS = "correct horse battery staple"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JARSHY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JARSHY_KDF", "fast")
    monkeypatch.delenv("JARSHY_PASSPHRASE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Keystore:
    return Keystore()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _only_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_create_list_unlock(store: Keystore, home: Path) -> None:
    anna = store.create("Анна", PASS)
    bob = store.create("bob", "другой пароль")
    assert store.path == home / "keys"
    infos = store.list()
    assert [i.name for i in infos] == ["bob", "Анна"]
    info = store.public("Анна")
    assert (info.public_key, info.key_id, info.fingerprint) == (
        anna.public_key,
        anna.key_id,
        anna.fingerprint,
    )
    assert info.created.tzinfo is not None
    unlocked = store.unlock("Анна", PASS)
    assert unlocked == anna
    assert verify(anna.public_key, b"msg", unlocked.sign(b"msg"))
    assert store.unlock("bob", "другой пароль").public_key == bob.public_key


def test_passphrase_is_nfc_normalised(store: Keystore) -> None:
    store.create("x", "ключ \u0439 в кармане")  # й precomposed
    assert store.unlock("x", "ключ \u0438\u0306 в кармане").name == "x"  # и + combining breve


def test_file_and_directory_modes(store: Keystore) -> None:
    store.create("anna", PASS)
    assert _mode(store.path) == 0o700
    assert _mode(store.path / "anna.key") == 0o600
    assert _only_files(store.path) == ["anna.key"]


def test_existing_lax_directory_is_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JARSHY_KDF", "fast")
    lax = tmp_path / "keys"
    lax.mkdir(mode=0o755)
    os.chmod(lax, 0o755)
    Keystore(lax)
    assert _mode(lax) == 0o700


def test_no_secret_in_clear(store: Keystore) -> None:
    identity = store.create("anna", PASS)
    data = (store.path / "anna.key").read_bytes()
    assert identity.seed not in data
    assert identity.seed.hex().encode() not in data
    assert PASS.encode() not in data


def test_wrong_passphrase_leaves_file_untouched(store: Keystore) -> None:
    store.create("anna", PASS)
    file = store.path / "anna.key"
    before, mtime = file.read_bytes(), file.stat().st_mtime_ns
    with pytest.raises(WrongPassphrase) as error:
        store.unlock("anna", PASS + "!")
    assert "wrong passphrase" in str(error.value)
    assert isinstance(error.value, UserError)
    assert file.read_bytes() == before
    assert file.stat().st_mtime_ns == mtime
    assert _only_files(store.path) == ["anna.key"]


def test_duplicate_name_refused(store: Keystore) -> None:
    first = store.create("anna", PASS)
    with pytest.raises(KeystoreError, match="already exists"):
        store.create("anna", "another long passphrase")
    assert store.unlock("anna", PASS) == first


def test_duplicate_refused_even_if_created_concurrently(
    store: Keystore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the existence check and the write another process creates the same name."""
    original = keystore_module._seal

    def seal_then_race(*args: object, **kwargs: object) -> bytes:
        (store.path / "anna.key").write_bytes(b"the other writer's file")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(keystore_module, "_seal", seal_then_race)
    with pytest.raises(KeystoreError, match="already exists"):
        store.create("anna", PASS)
    assert (store.path / "anna.key").read_bytes() == b"the other writer's file"
    assert _only_files(store.path) == ["anna.key"]


@pytest.mark.parametrize(
    "name", ["", "../evil", "a/b", "a\\b", ".hidden", "con:x", "a\x00b", " pad", "x" * 41, "tab\t"]
)
def test_bad_names_refused(store: Keystore, name: str) -> None:
    with pytest.raises(KeystoreError):
        store.create(name, PASS)
    assert _only_files(store.path) == []


def test_empty_passphrase_refused(store: Keystore) -> None:
    with pytest.raises(KeystoreError, match="empty"):
        store.create("anna", "")
    assert _only_files(store.path) == []


def test_unknown_identity(store: Keystore) -> None:
    for call in (
        lambda: store.unlock("nobody", PASS),
        lambda: store.public("nobody"),
        lambda: store.delete("nobody"),
        lambda: store.export_share("nobody"),
    ):
        with pytest.raises(KeyNotFound):
            call()


def test_delete(store: Keystore) -> None:
    store.create("anna", PASS)
    store.delete("anna")
    assert store.list() == []
    assert _only_files(store.path) == []


def test_export_share(store: Keystore) -> None:
    identity = store.create("Анна", PASS)
    shared = decode_share(store.export_share("Анна"))
    assert (shared.public_key, shared.name) == (identity.public_key, "Анна")


def _edit(file: Path, change: object) -> None:
    doc = json.loads(file.read_text("utf-8"))
    change(doc)  # type: ignore[operator]
    file.write_text(json.dumps(doc), "utf-8")


def _flip_hex(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


def _set_cipher(field: str):  # type: ignore[no-untyped-def]
    return lambda doc: doc["cipher"].__setitem__(field, _flip_hex(doc["cipher"][field]))


def _set_top(field: str, value: object):  # type: ignore[no-untyped-def]
    return lambda doc: doc.__setitem__(field, value)


@pytest.mark.parametrize(
    "change",
    [
        _set_cipher("ciphertext"),
        _set_cipher("nonce"),
        _set_top("created", "2020-01-01T00:00:00Z"),
        _set_top("public_key", "11" * 32),
    ],
    ids=["ciphertext", "nonce", "created", "public_key"],
)
def test_tampering_is_a_clear_error(store: Keystore, change: object) -> None:
    store.create("anna", PASS)
    _edit(store.path / "anna.key", change)
    with pytest.raises(CorruptKeyFile, match="modified or damaged"):
        store.unlock("anna", PASS)


def test_tampered_kdf_fields_look_like_a_wrong_passphrase(store: Keystore) -> None:
    store.create("anna", PASS)
    _edit(store.path / "anna.key", lambda doc: doc["kdf"].__setitem__("opslimit", 2))
    with pytest.raises(WrongPassphrase):
        store.unlock("anna", PASS)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b'{"format": "jarshy-identity"}',
        b"\xff\xfe",
        b"{" + b" " * (70 * 1024) + b"}",
    ],
)
def test_malformed_files(store: Keystore, content: bytes) -> None:
    (store.path / "anna.key").write_bytes(content)
    with pytest.raises(CorruptKeyFile):
        store.public("anna")
    with pytest.raises(CorruptKeyFile):
        store.unlock("anna", PASS)
    assert store.list() == []  # unreadable files are skipped, not fatal


def test_unreasonable_kdf_cost_refused_before_running(store: Keystore) -> None:
    store.create("anna", PASS)
    _edit(store.path / "anna.key", lambda doc: doc["kdf"].__setitem__("memlimit", 1 << 40))
    with pytest.raises(CorruptKeyFile, match="out of range"):
        store.unlock("anna", PASS)


def test_renamed_file_is_refused(store: Keystore) -> None:
    store.create("anna", PASS)
    os.rename(store.path / "anna.key", store.path / "bob.key")
    with pytest.raises(CorruptKeyFile, match="holds identity"):
        store.unlock("bob", PASS)


def test_unsupported_version(store: Keystore) -> None:
    store.create("anna", PASS)
    _edit(store.path / "anna.key", _set_top("version", 2))
    with pytest.raises(CorruptKeyFile, match="upgrade"):
        store.public("anna")


def test_crash_during_create_leaves_nothing(
    store: Keystore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keystore_module.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        store.create("anna", PASS)
    monkeypatch.undo()
    assert _only_files(store.path) == []
    assert store.create("anna", PASS).name == "anna"  # the name is free again


def test_crash_during_rewrite_keeps_the_old_file(
    store: Keystore, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = store.create("anna", PASS)
    before = (store.path / "anna.key").read_bytes()
    writes: list[int] = []
    real_write = os.write

    def half_write_then_fail(fd: int, data: bytes | memoryview) -> int:
        if writes:
            raise OSError(5, "Input/output error")
        writes.append(real_write(fd, bytes(data[: len(data) // 2])))
        return writes[0]

    monkeypatch.setattr(keystore_module.os, "write", half_write_then_fail)
    with pytest.raises(OSError, match="Input/output"):
        store.change_passphrase("anna", PASS, "new passphrase")
    monkeypatch.undo()
    assert writes  # the temporary file really was half written
    assert (store.path / "anna.key").read_bytes() == before
    assert _only_files(store.path) == ["anna.key"]
    assert store.unlock("anna", PASS) == identity


def test_change_passphrase(store: Keystore) -> None:
    identity = store.create("anna", PASS)
    created = store.public("anna").created
    store.change_passphrase("anna", PASS, "new passphrase")
    with pytest.raises(WrongPassphrase):
        store.unlock("anna", PASS)
    assert store.unlock("anna", "new passphrase") == identity
    assert store.public("anna").created == created
    assert _mode(store.path / "anna.key") == 0o600
    with pytest.raises(WrongPassphrase):
        store.change_passphrase("anna", "wrong", "a new long passphrase")


def test_kdf_parameters_are_recorded_and_used(home: Path) -> None:
    custom = KdfParams(opslimit=2, memlimit=1 << 20)
    store = Keystore(kdf=custom)
    store.create("anna", PASS)
    doc = json.loads((store.path / "anna.key").read_text("utf-8"))
    assert (doc["kdf"]["opslimit"], doc["kdf"]["memlimit"]) == (2, 1 << 20)
    assert Keystore(kdf=KDF_PRESETS["fast"]).unlock("anna", PASS).name == "anna"


def test_kdf_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JARSHY_KDF", raising=False)
    assert kdf_from_env() == KDF_PRESETS["moderate"]
    monkeypatch.setenv("JARSHY_KDF", "Interactive")
    assert kdf_from_env() == KDF_PRESETS["interactive"]
    monkeypatch.setenv("JARSHY_KDF", "turbo")
    with pytest.raises(KeystoreError, match="turbo"):
        kdf_from_env()


def test_file_format_fields(store: Keystore) -> None:
    identity = store.create("Анна", PASS)
    doc = json.loads((store.path / "Анна.key").read_text("utf-8"))
    assert doc["format"] == "jarshy-identity" and doc["version"] == 1
    assert doc["name"] == "Анна"
    assert bytes.fromhex(doc["public_key"]) == identity.public_key
    assert doc["kdf"]["algorithm"] == "argon2id13"
    assert len(bytes.fromhex(doc["kdf"]["salt"])) == 16
    assert doc["cipher"]["algorithm"] == "xchacha20poly1305-ietf"
    assert len(bytes.fromhex(doc["cipher"]["nonce"])) == 24
    assert len(bytes.fromhex(doc["cipher"]["check"])) == 16
    assert len(bytes.fromhex(doc["cipher"]["ciphertext"])) == 48


# --- get_passphrase -------------------------------------------------------------------------


class _Tty:
    def __init__(self, is_tty: bool = True) -> None:
        self.is_tty = is_tty

    def isatty(self) -> bool:
        return self.is_tty


def test_passphrase_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARSHY_PASSPHRASE", "from env")
    assert get_passphrase("? ", confirm=True) == "from env"
    monkeypatch.setenv("JARSHY_PASSPHRASE", "")
    with pytest.raises(KeystoreError, match="empty"):
        get_passphrase()


def test_passphrase_without_tty_or_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JARSHY_PASSPHRASE", raising=False)
    monkeypatch.setattr(keystore_module.sys, "stdin", _Tty(False))
    with pytest.raises(PassphraseUnavailable, match="JARSHY_PASSPHRASE"):
        get_passphrase()


def test_passphrase_from_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JARSHY_PASSPHRASE", raising=False)
    monkeypatch.setattr(keystore_module.sys, "stdin", _Tty())
    answers = iter(["secret", "secret", "secret", "secret", "typo", ""])
    monkeypatch.setattr(keystore_module.getpass, "getpass", lambda prompt="": next(answers))
    assert get_passphrase("? ") == "secret"
    assert get_passphrase("? ", confirm=True) == "secret"
    with pytest.raises(KeystoreError, match="do not match"):
        get_passphrase("? ", confirm=True)
    with pytest.raises(KeystoreError, match="empty"):
        get_passphrase("? ")


def test_a_weak_new_passphrase_is_refused_before_it_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JARSHY_PASSPHRASE", raising=False)
    monkeypatch.setattr(keystore_module.sys, "stdin", _Tty())
    asked: list[str] = []

    def typed(prompt: str = "") -> str:
        asked.append(prompt)
        return "qwerty12345"

    monkeypatch.setattr(keystore_module.getpass, "getpass", typed)
    with pytest.raises(WeakPassphrase, match="run of letters"):
        get_passphrase("New: ", confirm=True, check=lambda p: check_new_passphrase(p, "x", False))
    assert asked == ["New: "]  # no "Repeat the passphrase"


WEAK = [
    ("short", "is 5 characters long"),
    ("Анна2024!", "characters long"),
    ("aaaaaaaaaaaaaaaa", "1 different character"),
    ("abababab1212", "different characters"),
    ("0123456789", "only digits"),
    ("19870412 5550123", "only digits"),
    ("311220-070119", "only digits"),
    ("abcdefghijkl", "run"),
    ("qwertyuiop!!", "run"),
    ("йцукенгшщз", "run"),
    ("абвгдежзий", "run"),
    ("9876543210zyxw", None),
    ("Password123!", "common"),
    ("пароль 2024!!", "common"),
    ("passwordpassword", "common"),
    ("iloveyou  2025", "common"),
    ("anna anna anna", "different characters"),
    ("Almaty Desk 2024", "own name"),
    ("almatydesk!!", "own name"),
]


@pytest.mark.parametrize(("passphrase", "why"), WEAK)
def test_very_weak_passphrases_are_refused_with_the_reason_and_what_to_do(
    store: Keystore, passphrase: str, why: str | None
) -> None:
    name = "Almaty Desk"
    with pytest.raises(WeakPassphrase) as refused:
        store.create(name, passphrase)
    message = str(refused.value)
    assert message.startswith("refusing a weak passphrase: ") and "\n" not in message
    assert why is None or why in message, message
    assert "at least 10 characters" in message and "--force-weak-passphrase" in message
    assert _only_files(store.path) == []  # nothing written
    assert store.create(name, passphrase, allow_weak=True).name == name  # forced: taken


@pytest.mark.parametrize(
    "passphrase",
    [PASS, "test passphrase", "другой пароль", "Тау самалы 1987", "Kök şay, 3 qasyq", "x7#Lp9!q2Zr",
     "Almaty Desk in the old cinema", "20191231 0455 0123 7788"],
)  # fmt: skip
def test_ordinary_passphrases_pass(store: Keystore, passphrase: str) -> None:
    assert store.create("Almaty Desk", passphrase).name == "Almaty Desk"


def test_a_weak_new_passphrase_is_refused_on_change_too(store: Keystore) -> None:
    store.create("anna", PASS)
    with pytest.raises(WeakPassphrase, match="run"):
        store.change_passphrase("anna", PASS, "qwerty12345")
    assert store.unlock("anna", PASS).name == "anna"  # the old one still opens it


def test_keys_new_refuses_a_weak_passphrase_unless_forced(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from relay.cli import main

    monkeypatch.setenv("JARSHY_PASSPHRASE", "12345678")
    assert main(["keys", "new", "Desk"]) != 0
    err = capsys.readouterr().err
    assert "refusing a weak passphrase: it is 8 characters long" in err
    assert not list((home / "keys").glob("*.key"))
    assert main(["keys", "new", "Desk", "--force-weak-passphrase"]) == 0
    out = capsys.readouterr().out
    assert "created Desk" in out and "jarshy keys share" in out and "out loud" in out
    assert "--trust" in out
    assert main(["keys", "share", "Desk"]) == 0
    assert capsys.readouterr().out.startswith("jarshy:")
