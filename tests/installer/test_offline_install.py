"""End to end, as a volunteer in a shutdown would: build a bundle for this machine (needs the
package registry: marked ``registry``; CI has it), install it into a fresh virtual environment
with the registry unreachable, run the simulated mesh from it, and hand the installer on —
the copy kept at install time and one rebuilt from the installed packages — and install again
(into a venv without pip, as Debian makes one without python3-venv: pip comes from the bundle).

Kept to this platform and Python (about two minutes: pip's cache makes the build quick)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from relay.installer import verify_bundle
from tests.installer.conftest import offline_env, run

pytestmark = pytest.mark.registry
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("offline")


@pytest.fixture(scope="module")
def bundle(work: Path) -> Path:
    """`jarshy installer build --here`, on a machine with the registry (the build side)."""
    out = work / "bundle"
    done = run(
        [sys.executable, "-m", "relay.cli", "installer", "build", "--here", "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    assert f"fingerprint {verify_bundle.fingerprint(out)}" in done.stdout
    return out


def install(bundle: Path, venv: Path, work: Path) -> str:
    """install.sh on the offline side: no registry, no local wheel folder, no pip config."""
    done = run(
        ["sh", str(bundle / "install.sh"), "--venv", str(venv), "--no-compile"],
        offline_env(work),
        work,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def venv(bundle: Path, work: Path) -> Path:
    venv = work / "venv"
    out = install(bundle, venv, work)
    assert (
        f"installed jarshy=={json.loads((bundle / 'manifest.json').read_text())['version']}" in out
    )
    return venv


def jarshy(venv: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([str(venv / "bin" / "jarshy"), *args], offline_env(work), work)


def test_the_installed_node_runs_from_its_own_venv(venv: Path, work: Path) -> None:
    done = run(
        [str(venv / "bin" / "python"), "-c", "import relay; print(relay.__file__)"],
        offline_env(work),
        work,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(venv), "imported from the source tree"


def test_the_simulated_mesh_runs_from_the_offline_install(venv: Path, work: Path) -> None:
    done = jarshy(venv, work, "sim", "village-chain", "--engine", "jarshy", "--duration", "120",
                  "--quiet", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["engine"] == "jarshy"
    assert report["delivery"]["delivered"] > 0


@pytest.fixture
def daemon(venv: Path, work: Path) -> Iterator[subprocess.Popen[str]]:
    env = offline_env(work)
    process = subprocess.Popen(
        [str(venv / "bin" / "jarshy"), "daemon", "--simulate"],
        env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            jarshy(venv, work, "daemon", "stop")
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_daemon_relays_on_the_simulated_mesh_and_status_answers(
    venv: Path, work: Path, daemon: subprocess.Popen[str]
) -> None:
    read = None
    for _ in range(240):  # bounded wait for the first trusted demo bulletin; no time asserted
        assert daemon.poll() is None, daemon.stdout.read() if daemon.stdout else ""
        read = jarshy(venv, work, "read")
        if read.returncode == 0 and "TRUSTED" in read.stdout:
            break
        time.sleep(0.5)
    assert read is not None and "TRUSTED" in read.stdout, read and read.stderr
    status = jarshy(venv, work, "status")
    assert status.returncode == 0, status.stderr
    assert "simulated mesh" in status.stdout
    stop = jarshy(venv, work, "daemon", "stop")
    assert stop.returncode == 0, stop.stderr
    assert daemon.wait(30) == 0


def test_the_kept_installer_is_handed_on_whole(bundle: Path, venv: Path, work: Path) -> None:
    out = work / "handed-on"
    done = jarshy(venv, work, "share-installer", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "copied the bundle this node was installed from" in done.stdout
    assert verify_bundle.fingerprint(out) == verify_bundle.fingerprint(bundle)
    check = run(["sh", str(out / "install.sh"), "--check"], offline_env(work), work)
    assert check.returncode == 0, check.stderr
    assert "this bundle fits this machine" in check.stdout


def test_a_rebuilt_installer_installs_again_with_no_registry(venv: Path, work: Path) -> None:
    out = work / "rebuilt"
    done = jarshy(venv, work, "share-installer", "--rebuild", "--out", str(out))
    assert done.returncode == 0, done.stderr
    manifest = verify_bundle.load_manifest(out)
    assert manifest["targets"].keys() == {verify_bundle.target_key()}
    assert any("other than" in line for line in manifest["missing"])
    second = work / "venv2"  # made as on Debian without python3-venv: no pip, from the bundle
    made = run(
        [sys.executable, "-m", "venv", "--without-pip", str(second)], offline_env(work), work
    )
    assert made.returncode == 0, made.stderr
    install(out, second, work)
    pip = run([str(second / "bin" / "python"), "-m", "pip", "--version"], offline_env(work), work)
    assert pip.returncode == 0 and str(second) in pip.stdout
    again = jarshy(second, work, "sim", "village-chain", "--engine", "jarshy", "--duration", "60",
                   "--quiet", "--json")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["delivery"]["delivered"] > 0
