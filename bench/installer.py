"""Offline installer benchmark: how big a bundle is, and how long an install with no network takes.

Figures, each against a baseline measured in the same run:
- bundle size: MB of wheels each target installs from ÷ MB that Jarshy and its dependencies take
  once installed (site-packages of a fresh venv, without pip; measured on this machine);
- offline install: seconds for ``install.sh`` (venv, verify every SHA-256, pip --no-index,
  byte-code compiled, keeping no copy) ÷ seconds for an online ``pip install`` of the same
  project into a fresh venv (``--no-cache-dir``: what a user with internet waits); when the
  registry cannot be reached, ÷ seconds to create an empty venv.
The bundle is built for this machine unless ``--bundle DIR`` names one (e.g. every target's).
``python bench/installer.py [--bundle DIR] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from relay.installer.manifest import sizes_by_target  # noqa: E402
from relay.installer.verify_bundle import load_manifest, target_key  # noqa: E402

NOT_PACKAGES = ("pip", "setuptools", "_distutils_hack", "distutils-precedence.pth")


def offline_env(tmp: Path) -> dict[str, str]:
    """No registry: a dead index, no local wheel folder, no pip configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_CONFIG_FILE=os.devnull)
    env.update(HOME=str(tmp))
    return env


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, bool]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.returncode == 0


def installed_bytes(venv: Path) -> int:
    """Bytes of the installed packages in a venv's site-packages (pip and setuptools left out)."""
    (site,) = venv.glob("lib/python*/site-packages")
    total = 0
    for path in site.rglob("*"):
        top = path.relative_to(site).parts[0]
        if path.is_file() and not top.startswith(NOT_PACKAGES):
            total += path.stat().st_size
    return total


def build_here(out: Path) -> None:
    command = [sys.executable, "-m", "relay.cli", "installer", "build", "--here", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"could not build a bundle: {done.stderr.strip()}")


def figures(bundle: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jarshy-bench-") as tmp:
        work = Path(tmp)
        if bundle is None:
            bundle = work / "bundle"
            build_here(bundle)
        manifest = load_manifest(bundle)
        offline_venv = work / "offline"
        install = ["sh", str(bundle / "install.sh"), "--venv", str(offline_venv), "--no-keep"]
        offline_s, ok = timed(install, offline_env(work))
        if not ok:
            raise SystemExit("the offline install failed: sh install.sh --check says why")
        installed = installed_bytes(offline_venv)
        wheel = next((bundle / "wheels").glob(f"{manifest['project']}-*.whl"))
        online_venv = work / "online"
        venv_s, _ = timed([sys.executable, "-m", "venv", str(online_venv)])
        pip_s, online_ok = timed(
            [str(online_venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir",
             "--disable-pip-version-check", str(wheel)]
        )  # fmt: skip
    baseline = "online pip install" if online_ok else "venv creation (registry unreachable)"
    baseline_s = venv_s + pip_s if online_ok else venv_s
    sizes = {key: size / 1e6 for key, size in sizes_by_target(manifest).items()}
    return {
        "here": target_key(),
        "bundle_mb_by_target": {key: round(mb, 1) for key, mb in sizes.items()},
        "bundle_mb_total": round(sum(int(f["size"]) for f in manifest["files"].values()) / 1e6, 1),
        "installed_mb": round(installed / 1e6, 1),
        "bundle_over_installed_by_target": {
            key: round(mb / (installed / 1e6), 3) for key, mb in sizes.items()
        },
        "offline_install_s": round(offline_s, 1),
        "baseline": baseline,
        "baseline_s": round(baseline_s, 1),
        "offline_over_baseline": round(offline_s / baseline_s, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="measure this bundle instead of building one")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = figures(args.bundle)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"installed here ({result['here']}): {result['installed_mb']} MB of packages")
    for key, mb in result["bundle_mb_by_target"].items():
        ratio = result["bundle_over_installed_by_target"][key]
        print(f"bundle for {key}: {mb} MB = {ratio:.3f} × the installed size")
    print(f"whole bundle: {result['bundle_mb_total']} MB")
    print(
        f"offline install: {result['offline_install_s']} s = "
        f"{result['offline_over_baseline']:.3f} × {result['baseline']} "
        f"({result['baseline_s']} s, same run)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
