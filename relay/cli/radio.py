"""``jarshy radio emulate``: run a fake Meshtastic radio on a pty or a TCP port until Ctrl+C.

Useful to try Jarshy, the official ``meshtastic`` CLI or any other client without hardware.
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from relay.cli.human import tr
from relay.errors import UserError
from relay.inert import inert_line


def register(subparsers: Any) -> None:
    """Add ``jarshy radio ...`` commands."""
    radio = subparsers.add_parser("radio", help="radio tools: info, provision, emulate")
    sub = radio.add_subparsers(dest="radio_command", metavar="RADIO_COMMAND")
    emulate = sub.add_parser(
        "emulate",
        help="run an emulated Meshtastic radio on a pseudo-terminal or TCP port",
        description="Run an emulated Meshtastic radio (client API over a pty or TCP) until Ctrl+C.",
    )
    where = emulate.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default)")
    where.add_argument("--tcp", type=int, metavar="PORT", help="serve on this TCP port (4403)")
    emulate.add_argument("--name", help="long name of the radio")
    emulate.add_argument(
        "--node-num", type=_node_num, default=None, help="node number (decimal, 0x.. or !hex)"
    )
    emulate.add_argument("--region", default="EU_868", help="LoRa region code (EU_868)")
    emulate.add_argument("--preset", default="LONG_FAST", help="modem preset (LONG_FAST)")
    emulate.add_argument("--role", default="CLIENT", help="device role (CLIENT)")
    emulate.add_argument(
        "--firmware", metavar="VERSION", help="firmware version it reports, e.g. 2.8.0 (2.7.18)"
    )
    emulate.add_argument(
        "--channel-num", type=int, default=None, metavar="N",
        help="pin lora.channel_num (1-based frequency slot; 0 hashes the primary channel's name)",
    )  # fmt: skip
    emulate.add_argument(
        "--link", metavar="PATH", help="with --pty: also create this symlink to the pty"
    )
    emulate.set_defaults(handler=run_emulate)
    from relay.cli.provision import register_radio_commands

    register_radio_commands(sub)
    radio.set_defaults(handler=lambda args: _help(radio))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _node_num(text: str) -> int:
    try:
        if text.startswith("!"):
            return int(text[1:], 16)
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a node number: {text!r}") from None


def _firmware(text: str) -> str:
    """A firmware version as the radio reports it (digits and dots, maybe a suffix)."""
    import re

    if not re.fullmatch(r"\d+\.\d+(\.\d+)?([.-][A-Za-z0-9.]+)?", text):
        raise UserError(f"bad radio setting: firmware version {inert_line(text, 30)} (e.g. 2.8.0)")
    return text


def run_emulate(args: argparse.Namespace) -> int:
    """Run the emulator until interrupted."""
    import random

    from relay.radio.emulator import EmulatedRadio
    from relay.radio.medium import InProcessMedium
    from relay.radio.state import FIRMWARE_VERSION, RadioState
    from relay.radio.transports import PtyTransport, TcpTransport

    node_num = args.node_num or random.randint(0x10000000, 0xFFFFFFF0)
    firmware = FIRMWARE_VERSION if not args.firmware else _firmware(args.firmware)
    try:
        state = RadioState.create(
            node_num, long_name=args.name, region=args.region, preset=args.preset, role=args.role,
            firmware_version=firmware,
        )  # fmt: skip
    except ValueError as exc:  # unknown enum names come back as ValueError too
        raise UserError(f"bad radio setting: {exc}") from None
    if args.channel_num is not None:
        if not 0 <= args.channel_num <= 10_000:
            raise UserError(f"bad radio setting: channel number {args.channel_num} (0..10000)")
        state.config.lora.channel_num = args.channel_num
    medium = InProcessMedium(time_scale=1.0)
    radio = EmulatedRadio(state, medium=medium)
    transport: PtyTransport | TcpTransport
    try:
        if args.tcp is not None:
            transport = TcpTransport(radio, port=args.tcp).start()
            where = f"tcp:127.0.0.1:{transport.port}"
        else:
            transport = PtyTransport(radio, link=args.link).start()
            where = f"serial:{transport.path}"
    except OSError as exc:
        raise UserError(f"cannot start the emulator: {exc}") from None
    radio.start()
    owner = inert_line(state.owner.long_name)
    firmware = inert_line(state.metadata.firmware_version)
    node = f"!{node_num:08x}"
    print(tr("emu_started", node=node, owner=owner, firmware=firmware, where=where), flush=True)
    print(tr("emu_stop"), flush=True)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        transport.close()
        radio.stop()
        medium.close()
    return 0
