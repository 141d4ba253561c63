"""The texts written into every bundle: ``install.sh`` (POSIX sh) and ``README.txt``.

``install.sh`` needs nothing but the machine's ``python3``: it runs ``verify.py`` (every file's
SHA-256 against the manifest), creates a virtual environment with ``python3 -m venv`` (bootstrapping
pip from the bundle where Debian's python3-venv is missing), installs with
``pip install --no-index --find-links wheels`` in pip's isolated mode (no configuration file or
``PIP_*`` variable can point it at a network), and keeps a verified copy of the bundle in the
environment, which `jarshy share-installer` hands on.
"""

from __future__ import annotations

KEPT_DIR = ("share", "jarshy-installer")  # inside the virtual environment

INSTALL_SH = r"""#!/bin/sh
# Jarshy offline installer: installs from the wheels beside this script, with no network.
# Usage: sh install.sh [--venv DIR] [--python PYTHON] [--no-keep] [--no-compile] [--check]
#   --venv DIR   where to install (default: $XDG_DATA_HOME/jarshy/venv, ~/.local/share/jarshy/venv)
#   --python PY  the Python 3.11-3.13 to use (default: python3)
#   --no-keep    do not keep a copy of this bundle to hand on (jarshy share-installer)
#   --no-compile install faster, start slower the first time (no byte-code compiled now)
#   --check      only verify the bundle and say whether it fits this machine
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
python=${PYTHON:-python3}
venv=${JARSHY_VENV:-"${XDG_DATA_HOME:-$HOME/.local/share}/jarshy/venv"}
keep=yes
check_only=no
compile=--compile
say() { printf 'jarshy-install: %s\n' "$*" >&2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --venv) [ $# -ge 2 ] || { say "--venv needs a directory"; exit 2; }; venv=$2; shift 2 ;;
        --python) [ $# -ge 2 ] || { say "--python needs a command"; exit 2; }; python=$2; shift 2 ;;
        --no-keep) keep=no; shift ;;
        --no-compile) compile=--no-compile; shift ;;
        --check) check_only=yes; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) say "unknown option $1 (sh install.sh --help)"; exit 2 ;;
    esac
done
command -v "$python" >/dev/null 2>&1 || {
    say "$python not found: install Python 3.11, 3.12 or 3.13, or pass --python PATH"; exit 1; }
"$python" "$here/verify.py" "$here" || exit 1
spec=$("$python" "$here/verify.py" --requirement "$here") || exit 1
if [ "$check_only" = yes ]; then
    echo "this bundle fits this machine: it installs $spec"
    exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
    # Debian and Raspberry Pi OS lack ensurepip without python3-venv: then pip comes from the bundle
    "$python" -m venv "$venv" >/dev/null 2>&1 || "$python" -m venv --without-pip "$venv" || {
        say "could not create a virtual environment in $venv with '$python -m venv'"; exit 1; }
fi
if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    pipwheel=$("$python" "$here/verify.py" --field pip "$here")
    [ -n "$pipwheel" ] || { say "no pip in $venv and none in the bundle"; exit 1; }
    "$venv/bin/python" "$here/$pipwheel/pip" --isolated install --quiet --no-index \
        "$here/$pipwheel" || {
        say "could not install pip from the bundle into $venv"; exit 1; }
fi
"$venv/bin/python" -m pip --isolated install --quiet --disable-pip-version-check --no-index \
    "$compile" --find-links "$here/wheels" --upgrade "$spec" || {
    say "pip could not install $spec from $here/wheels (its message is above)"; exit 1; }
if [ "$keep" = yes ]; then
    kept="$venv/share/jarshy-installer"
    if [ "$here" != "$kept" ]; then
        rm -rf "$kept.new"
        if "$python" "$here/verify.py" --copy "$here" "$kept.new" &&
            "$python" "$here/verify.py" "$kept.new" >/dev/null; then
            rm -rf "$kept"
            mv "$kept.new" "$kept"
        else
            rm -rf "$kept.new"
            say "the copy kept for handing on did not verify; not kept (Jarshy itself is installed)"
        fi
    fi
fi
echo "installed $spec into $venv"
echo "run it as $venv/bin/jarshy (or add $venv/bin to PATH)"
echo "hand it on: $venv/bin/jarshy share-installer --out DIR"
"""

README = """Jarshy offline installer
========================

Installs Jarshy with no network: copy this whole folder (for example on a USB stick), then

    sh install.sh                 (installs into ~/.local/share/jarshy/venv)
    sh install.sh --venv DIR      (installs elsewhere)
    sh install.sh --check         (only checks the bundle and whether it fits this machine)

Before installing, install.sh checks the SHA-256 of every file against manifest.json and names
any file that is missing, corrupted or altered. The SHA-256 of manifest.json itself is the
bundle's fingerprint: compare it with the one your newsroom or the project published
(sha256sum manifest.json). A bundle from a stranger is only as trustworthy as the stranger.

This bundle: Jarshy {version}{extras}, built {built} ({source}).
Machines it installs on: {targets}.
{missing}
Windows and macOS: these wheels are for Linux. On such a machine with internet, run
`jarshy installer build --here --out DIR` to build a bundle for that machine; on Windows install
it with `py -m venv DIR` then `DIR\\Scripts\\pip install --no-index --find-links wheels jarshy`.

More: docs/install-offline.md in the Jarshy sources.
"""
