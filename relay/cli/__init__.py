"""The `jarshy` command: one argparse tree, each area registering its own subcommands.

User errors surface as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from relay.cli.human import language
from relay.errors import UserError
from relay.i18n import translate
from relay.inert import inert_line

# Modules that contribute subcommands; each exposes ``register(subparsers)``.
COMMAND_MODULES = (
    "relay.cli.keys",
    "relay.cli.bulletins",
    "relay.cli.bundle",
    "relay.cli.radio",
    "relay.cli.sim",
    "relay.cli.daemon",
    "relay.cli.channel",
    "relay.cli.verify",
    "relay.cli.wipe",
    "relay.cli.installer",
    "tui.cli",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser from every registered command module."""
    parser = argparse.ArgumentParser(
        prog="jarshy",
        description="Offline-first mesh relay for signed bulletins and safety alerts.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # an area not built yet must not break the rest
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def default_action(args: argparse.Namespace) -> int:
    """What `jarshy` with no arguments does: open the UI (starting a daemon if needed)."""
    try:
        launcher = importlib.import_module("tui.launch")
    except ModuleNotFoundError:
        print(
            "jarshy: the terminal UI is not built yet; try `jarshy --help` "
            "(keys, compose, inspect, size, trust, export, import).",
        )
        return 0
    result: int = launcher.main(args)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jarshy` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if handler is None:
            return default_action(args)
        return handler(args)
    except UserError as exc:
        message = inert_line(str(exc))  # one line, whatever it quotes
        print(translate("error", language(), message=message), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(translate("interrupted", language()), file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `jarshy read | head`: the reader left, which is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
