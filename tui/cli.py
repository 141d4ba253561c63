"""`jarshy tui [--socket PATH]`: attach the UI to a running daemon."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from relay import paths


def register(sub: Any) -> None:
    parser = sub.add_parser("tui", help="open the terminal UI on a running daemon")
    parser.add_argument("--socket", help="API socket path")
    parser.set_defaults(handler=tui_command)


def tui_command(args: argparse.Namespace) -> int:
    from tui.app import JarshyApp

    JarshyApp(Path(args.socket) if args.socket else paths.socket_path()).run()
    return 0
