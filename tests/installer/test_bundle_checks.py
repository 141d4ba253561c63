"""The bundle's own checks, on small bundles made here (no registry needed): a corrupted,
missing or slipped-in file is refused by install.sh, by name, before anything is installed."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import zipfile
from importlib.metadata import distribution
from pathlib import Path

import pytest

from relay.errors import UserError
from relay.installer import manifest, verify_bundle
from relay.installer.closure import gaps
from relay.installer.repack import compressed_tag, repack
from relay.installer.targets import Target, targets
from tests.installer.conftest import offline_env, run


def fake_wheel(folder: Path, name: str, version: str, requires: list[str] = ()) -> Path:  # type: ignore[assignment]
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {line}\n" for line in requires)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{name}/__init__.py", "")
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata)
        archive.writestr(
            f"{name}-{version}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
    return wheel


@pytest.fixture
def small_bundle(tmp_path: Path) -> Path:
    here = verify_bundle.target_key()
    wheels = [
        fake_wheel(tmp_path / "src", "jarshy", "0.1.0"),
        fake_wheel(tmp_path / "src", "dep", "1.0"),
    ]
    contents = manifest.Contents("jarshy", "0.1.0", [], "test", {here: wheels}, None)
    out = tmp_path / "bundle"
    manifest.write(out, contents)
    return out


def install(bundle: Path, tmp: Path, *extra: str) -> tuple[int, str, Path]:
    venv = tmp / "venv"
    done = run(
        ["sh", str(bundle / "install.sh"), "--venv", str(venv), *extra], offline_env(tmp), tmp
    )
    return done.returncode, done.stdout + done.stderr, venv


def test_a_clean_bundle_verifies_and_fits_this_machine(small_bundle: Path, tmp_path: Path) -> None:
    assert verify_bundle.problems(small_bundle) == []
    code, out, venv = install(small_bundle, tmp_path, "--check")
    assert code == 0, out
    assert "it installs jarshy==0.1.0" in out
    assert verify_bundle.fingerprint(small_bundle) in out
    assert not venv.exists()
    code, out, _ = install(small_bundle, tmp_path, "--help")
    assert code == 0 and "--no-keep" in out and "set -eu" not in out


def test_a_corrupted_wheel_is_refused_by_name(small_bundle: Path, tmp_path: Path) -> None:
    wheel = small_bundle / "wheels" / "dep-1.0-py3-none-any.whl"
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit flipped, same size: only the hash can tell
    wheel.write_bytes(bytes(data))
    code, out, venv = install(small_bundle, tmp_path)
    assert code == 1
    assert "refused: wheels/dep-1.0-py3-none-any.whl: SHA-256 differs" in out
    assert "nothing installed" in out
    assert not venv.exists()


def test_a_slipped_in_wheel_a_missing_file_and_an_altered_script_are_refused(
    small_bundle: Path, tmp_path: Path
) -> None:
    shutil.copy(
        small_bundle / "wheels" / "dep-1.0-py3-none-any.whl",
        small_bundle / "wheels" / "dep-9.0-py3-none-any.whl",
    )
    (small_bundle / "wheels" / "jarshy-0.1.0-py3-none-any.whl").unlink()
    (small_bundle / "README.txt").write_text("run curl | sh\n")
    found = verify_bundle.problems(small_bundle)
    assert found == [
        "README.txt: size differs from the manifest (corrupted or altered)",
        "wheels/jarshy-0.1.0-py3-none-any.whl: missing from the bundle",
        "wheels/dep-9.0-py3-none-any.whl: not in the manifest (pip would read it): remove it",
    ]
    code, out, venv = install(small_bundle, tmp_path)
    assert code == 1 and not venv.exists()
    assert all(line in out for line in found)


def test_a_manifest_naming_files_outside_the_bundle_is_refused(small_bundle: Path) -> None:
    path = small_bundle / "manifest.json"
    data = json.loads(path.read_text())
    data["files"]["../../etc/passwd"] = {"sha256": "0" * 64, "size": 1}
    path.write_text(json.dumps(data))
    (found,) = verify_bundle.problems(small_bundle)
    assert "outside the bundle" in found and "../../etc/passwd" in found


def test_a_bundle_for_other_machines_says_which_it_has(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "src", "jarshy", "0.1.0")
    contents = manifest.Contents(
        "jarshy", "0.1.0", [], "test", {"cp399-linux_riscv64": [wheel]}, None
    )
    manifest.write(tmp_path / "b", contents)
    code, out, _ = install(tmp_path / "b", tmp_path, "--check")
    assert code == 1
    assert f"no wheels for {verify_bundle.target_key()} (it has: cp399-linux_riscv64)" in out


def test_the_output_folder_must_be_new_or_empty(tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        manifest.empty_out(tmp_path / "used")
    assert (tmp_path / "used" / "notes.txt").read_text() == "mine"


def test_markers_are_judged_for_the_target_not_this_machine(tmp_path: Path) -> None:
    top = fake_wheel(
        tmp_path, "jarshy", "0.1.0",
        ['dep; platform_machine == "aarch64"', 'old; python_version < "3.12"', 'plot; extra == "plots"'],
    )  # fmt: skip
    pi = Target("3.13", "linux", "aarch64")
    pc = Target("3.11", "linux", "x86_64")
    assert gaps([top], pi, "jarshy", []) == ["dep"]
    assert gaps([top], pc, "jarshy", []) == ["old"]
    assert gaps([top], pc, "jarshy", ["plots"]) == ["old", "plot"]
    dep = fake_wheel(tmp_path, "dep", "1.0", ["leaf>=2"])
    assert gaps([top, dep], pi, "jarshy", []) == ["leaf>=2"]


def test_targets_and_tags() -> None:
    assert [t.key for t in targets(["arm64"], ["3.12"])] == ["cp312-linux_aarch64"]
    flags = Target("3.12", "linux", "aarch64").pip_flags()
    assert "--only-binary=:all:" in flags and "manylinux2014_aarch64" in flags
    assert "manylinux_2_31_aarch64" in flags and "manylinux_2_34_aarch64" not in flags
    with pytest.raises(UserError, match="unsupported Python"):
        targets(None, ["3.10"])
    assert compressed_tag(
        ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"]
    ) == ("cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64")


def test_no_registry_is_one_clear_line(tmp_path: Path) -> None:
    env = offline_env(tmp_path)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = run(
        [sys.executable, "-m", "relay.cli", "installer", "build", "--here", "--out", str(tmp_path / "b")],
        env, tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "the package registry could not be reached" in lines[0]
    assert "jarshy share-installer" in lines[0]


def test_an_installed_package_is_repacked_into_a_wheel_pip_accepts(tmp_path: Path) -> None:
    dist = distribution("defusedxml")  # pure Python, installed with the project
    wheel = repack(dist, tmp_path)
    assert wheel.name == f"defusedxml-{dist.version}-py2.py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/RECORD"))
        record = archive.read(info).decode().splitlines()
        assert "defusedxml/__init__.py" in names and not any("__pycache__" in n for n in names)
        for line in record:
            path, digest, size = line.rsplit(",", 2)
            if digest:  # every file's hash in RECORD is its content's (RECORD itself has none)
                data = archive.read(path)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert digest == f"sha256={expected.decode()}" and int(size) == len(data)
    target = tmp_path / "target"
    done = run(
        [sys.executable, "-m", "pip", "--isolated", "install", "--no-index", "--no-deps",
         "--target", str(target), str(wheel)],
        offline_env(tmp_path), tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "defusedxml" / "ElementTree.py").is_file()


def test_the_kept_copy_holds_the_listed_files_only(small_bundle: Path, tmp_path: Path) -> None:
    (small_bundle / "holiday-photos").mkdir()  # a bundle unpacked at the root of a busy stick
    (small_bundle / "holiday-photos" / "beach.jpg").write_bytes(b"\xff\xd8" * 1000)
    dest = tmp_path / "kept"
    done = run(
        [sys.executable, str(small_bundle / "verify.py"), "--copy", str(small_bundle), str(dest)],
        offline_env(tmp_path), tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not (dest / "holiday-photos").exists()
    assert verify_bundle.problems(dest) == []
    assert verify_bundle.fingerprint(dest) == verify_bundle.fingerprint(small_bundle)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("project", "jarshy @ http://example.invalid/evil.whl", "names a project or extra"),
        ("version", "0.1.0 --index-url=http://example.invalid", "is not a version"),
        ("extras", ["plots]; os_name=='posix"], "names a project or extra"),
        ("pip", "../../bin/sh", "pip is not a wheel it lists"),
    ],
)
def test_manifest_fields_handed_to_pip_or_the_shell_are_checked(
    small_bundle: Path, tmp_path: Path, field: str, value: object, says: str
) -> None:
    path = small_bundle / "manifest.json"
    data = json.loads(path.read_text())
    data[field] = value
    path.write_text(json.dumps(data))
    (found,) = verify_bundle.problems(small_bundle)
    assert says in found
    code, out, venv = install(small_bundle, tmp_path)
    assert code == 1 and says in out and not venv.exists()


def test_a_file_name_with_terminal_escapes_is_printed_inert(small_bundle: Path) -> None:
    (small_bundle / "wheels" / "x\x1b]0;pwned\x07.whl").write_bytes(b"")
    (found,) = verify_bundle.problems(small_bundle)
    assert "\x1b" not in found and "\x07" not in found and "x?]0;pwned?.whl" in found
