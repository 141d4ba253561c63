"""`jarshy keys ...`, `jarshy radio provision` and `jarshy installer ...` speak the person's
language: the next step after `keys new`, the refusal of a weak passphrase, the empty lists, a
provisioning run against an emulated radio; English stays as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relay.cli import main
from relay.installer import manifest, verify_bundle
from relay.provision.channel import make_url
from tests.installer.test_bundle_checks import fake_wheel
from tests.provision.conftest import radio  # noqa: F401  (the emulated-radio fixture)

URL = make_url("Jarshy", bytes(range(32)), region="KZ_863", tx_power=14, add=True)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("lang", "word"),
    [("ru", "отпечаток"), ("kk", "саусақ ізін")],
)
def test_keys_new_tells_the_next_step_in_the_language(
    jarshy_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    lang: str, word: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("JARSHY_LANG", lang)
    code, out, _ = run(["keys", "new", "Desk"], capsys)
    assert code == 0
    assert word in out and "jarshy trust add STRING" in out  # commands stay as typed
    assert "out loud" not in out and "next:" not in out and "created" not in out
    assert "jarshy:" in out and "Desk" in out  # the share string and name are still printed


def test_a_weak_passphrase_is_refused_in_kazakh_with_the_reason(
    jarshy_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JARSHY_LANG", "kk")
    monkeypatch.setenv("JARSHY_PASSPHRASE", "12345678")
    code, _, err = run(["keys", "new", "Desk"], capsys)
    assert code != 0
    assert "әлсіз құпия сөйлем қабылданбады: ұзындығы небәрі 8 таңба" in err
    assert "--force-weak-passphrase" in err and "refusing" not in err
    assert "\n" not in err.strip()  # one line
    assert not list((jarshy_home / "keys").glob("*.key"))  # nothing was made
    monkeypatch.setenv("JARSHY_PASSPHRASE", "qwertyuiop")
    code, _, err = run(["keys", "new", "Desk"], capsys)
    assert code != 0 and "қатар тұрған әріптер" in err


def test_english_is_unchanged_and_empty_lists_are_translated(
    jarshy_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JARSHY_LANG", "en")
    monkeypatch.setenv("JARSHY_PASSPHRASE", "abcdefghij")
    _, _, err = run(["keys", "new", "Desk"], capsys)
    assert "refusing a weak passphrase: it is a run of letters, digits or keys in a row." in err
    monkeypatch.setenv("JARSHY_LANG", "ru")
    _, out, _ = run(["keys", "list"], capsys)
    assert out.startswith("ключей нет;") and "`jarshy keys new NAME`" in out
    _, out, _ = run(["trust", "list"], capsys)
    assert out.startswith("доверенных ключей нет;")


def test_an_unknown_root_is_told_in_russian_and_the_name_stays_inert(
    jarshy_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JARSHY_LANG", "ru")
    code, _, err = run(["trust", "remove", "x\x1b[2Jy"], capsys)
    assert code != 0
    assert "ни один доверенный ключ не подходит" in err and "\x1b" not in err


def test_radio_provision_speaks_kazakh_and_warns_a_relay_that_trusts_nobody(
    radio: Callable[..., Any], jarshy_home: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("JARSHY_LANG", "kk")
    monkeypatch.delenv("JARSHY_SOCKET", raising=False)
    r = radio(role="CLIENT", region="UNSET")
    argv = ["radio", "provision", "--profile", "portable-relay", "--region", "KZ_863",
            "--radio", r.address, "--reboot-wait", "0", "--channel-url", URL]  # fmt: skip
    code, out, err = run([*argv, "--dry-run"], capsys)
    assert code == 0, err
    assert code == 0 and "сынақ іске қосу: ештеңе жазылмады" in out
    assert "dry run" not in out and r.admin.commits == 0
    code, out, _ = run(argv, capsys)
    assert code == 0 and r.admin.commits == 1
    assert "KZ_863 аймағындағы portable-relay бойынша бапталды" in out
    assert "НАЗАР АУДАРЫҢЫЗ: бұл ретранслятор бірде-бір редакция кілтіне сенбейді" in out
    assert "WARNING" not in out and "provisioned" not in out


def test_installer_verify_speaks_russian_and_refuses_a_changed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = [fake_wheel(tmp_path / "src", "jarshy", "0.1.0")]
    here = verify_bundle.target_key()
    bundle = tmp_path / "bundle"
    manifest.write(bundle, manifest.Contents("jarshy", "0.1.0", [], "test", {here: wheels}, None))
    monkeypatch.setenv("JARSHY_LANG", "ru")
    code, out, _ = run(["installer", "verify", str(bundle)], capsys)
    assert code == 0
    assert "проверено: Jarshy 0.1.0" in out and f"устанавливается на: {here}" in out
    assert "verified" not in out and "installs on" not in out
    (bundle / "install.sh").write_text("echo changed\n")
    code, out, _ = run(["installer", "verify", str(bundle)], capsys)
    assert code == 1 and "отклонено: install.sh" in out and "проверено" not in out


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_reason_to_refuse_a_passphrase_is_translated(
    lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relay.cli.keys import _weakness_words
    from relay.crypto.passphrase import weakness

    monkeypatch.setenv("JARSHY_LANG", lang)
    samples = ["x", "short1", "aaaabbbbaa", "0123498765", "qwertyuiop", "password1!",
               "xyzqxyzqxyzq", "Newsdesk Newsdesk"]  # fmt: skip
    reasons = {weakness(sample, "Newsdesk") for sample in samples}
    assert None not in reasons and len(reasons) == len(samples)  # each sample a reason of its own
    for reason in reasons:
        assert reason is not None
        words = _weakness_words(reason)
        assert words != reason and not words.startswith("it "), (lang, reason)
