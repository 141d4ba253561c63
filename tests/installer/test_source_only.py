"""A dependency published only as a source archive: built here with `pip wheel` and kept when it
is pure Python, refused by name when it is not.  No registry: a local folder of archives, and a
tiny in-tree build backend (PEP 517 ``backend-path``) so the build itself needs nothing fetched."""

from __future__ import annotations

import io
import os
import tarfile
from importlib.metadata import distribution
from pathlib import Path

import pytest

from relay.errors import UserError
from relay.installer.build import fetch
from relay.installer.repack import repack
from relay.installer.targets import Target
from tests.installer.test_bundle_checks import fake_wheel

BACKEND = """
import base64, hashlib, zipfile

def _b64(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    tag = open("TAG").read().strip()
    name = "purelib-1.0-" + tag + ".whl"
    files = {
        "purelib/__init__.py": b"ANSWER = 42\\n",
        "purelib-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: purelib\\nVersion: 1.0\\n",
        "purelib-1.0.dist-info/WHEEL": ("Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: " + tag + "\\n").encode(),
    }
    record = "".join(f"{k},sha256={_b64(v)},{len(v)}\\n" for k, v in files.items())
    with zipfile.ZipFile(wheel_directory + "/" + name, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr("purelib-1.0.dist-info/RECORD", record + "purelib-1.0.dist-info/RECORD,,\\n")
    return name
"""
PYPROJECT = """[project]
name = "purelib"
version = "1.0"

[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""


def source_archive(folder: Path, tag: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "purelib-1.0.tar.gz"
    members = {
        "pyproject.toml": PYPROJECT,
        "backend.py": BACKEND,
        "TAG": tag,
        "PKG-INFO": "Metadata-Version: 2.1\nName: purelib\nVersion: 1.0\n",
    }
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"purelib-1.0/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip sees only a local folder (no index, no configuration file) holding pip's wheel,
    repacked from this Python's own pip."""
    folder = tmp_path / "archives"
    folder.mkdir()
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    repack(distribution("pip"), folder)  # so that this "registry" answers for pip, as a real one
    return folder


def test_a_pure_python_source_archive_becomes_a_wheel_for_every_target(
    local_index: Path, tmp_path: Path
) -> None:
    source_archive(local_index, "py3-none-any")
    top = fake_wheel(tmp_path / "top", "toppkg", "1.0", ["purelib"])
    dest, pure = tmp_path / "dest", tmp_path / "pure"
    pure.mkdir()
    fetch(Target("3.13", "linux", "aarch64"), [str(top)], dest, pure)
    assert sorted(p.name for p in dest.iterdir()) == [
        "purelib-1.0-py3-none-any.whl",
        "toppkg-1.0-py3-none-any.whl",
    ]


def test_a_compiled_source_archive_is_refused_by_name(local_index: Path, tmp_path: Path) -> None:
    source_archive(local_index, "cp311-cp311-linux_x86_64")
    top = fake_wheel(tmp_path / "top", "toppkg", "1.0", ["purelib"])
    pure = tmp_path / "pure"
    pure.mkdir()
    with pytest.raises(UserError, match="purelib has no wheel for this target and is not pure"):
        fetch(Target("3.12", "linux", "aarch64"), [str(top)], tmp_path / "dest", pure)
    assert list(pure.iterdir()) == []
