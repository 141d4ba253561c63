"""`jarshy tui [--socket PATH]`: attach the UI to a running daemon (never starts one)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("tui", help="open the terminal UI on a running daemon")
    parser.add_argument("--socket", help="API socket path (default: $JARSHY_SOCKET or the home's)")
    parser.set_defaults(handler=tui_command)


def tui_command(args: argparse.Namespace) -> int:
    from tui.app import JarshyApp
    from tui.home import default_socket

    JarshyApp(Path(args.socket) if args.socket else default_socket()).run()
    return 0
