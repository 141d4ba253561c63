"""``jarshy verify CODE``: which bulletin a mirror code names, and this node's verdict on it.

A phone-app user reads ``#K7Q2MX`` at the end of a mirrored message (docs/radio.md, "The phone-app
mirror"); any Jarshy node that holds the signed bulletin shows it here with its verdict. What a
code proves and what it does not: docs/protocol.md, "Mirror codes".
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from relay.api_client import ApiClient, ApiError
from relay.cli.daemon import with_api
from relay.cli.human import tr
from relay.cli.read_view import format_bulletin
from relay.errors import UserError
from relay.inert import inert_line
from relay.mirror_text import code_prefix, matches, mirror_code, normalize_code


def register(subparsers: Any) -> None:
    """Add ``jarshy verify``."""
    verify = subparsers.add_parser(
        "verify",
        help="check a mirror code (#K7Q2MX) seen in the Meshtastic app",
        description="Show the bulletin a mirror code names and this node's verdict on it.",
    )
    verify.add_argument("code", help="the code, with or without '#', any case")
    verify.add_argument("--json", action="store_true", help="the bulletin as the API gives it")
    verify.add_argument("--socket")
    verify.set_defaults(handler=verify_command)


def verify_command(args: argparse.Namespace) -> int:
    code = normalize_code(args.code)
    if code is None:
        raise UserError(tr("verify_not_code", code=inert_line(args.code, 20)))

    async def work(api: ApiClient) -> int:
        prefix = _hex_prefix(code)
        try:
            got = await api.call("get", id=prefix)
        except ApiError as exc:
            if exc.code != "not-found":
                raise
            got = None
        bulletin = None if got is None else got["bulletin"]
        if bulletin is None or not matches(bytes.fromhex(bulletin["id"]), code):
            raise UserError(tr("verify_not_found", code=code), exit_code=1)
        if args.json:
            print(json.dumps(bulletin, ensure_ascii=False))
            return 0
        code_shown = mirror_code(bytes.fromhex(bulletin["id"]))
        print(tr("verify_head", code=code_shown, id=bulletin["id"][:16]))
        print(format_bulletin(bulletin))
        if got and got.get("corrections"):
            for correction in got["corrections"]:
                print(tr("verify_corrected", line=format_bulletin(correction)))
        print(tr("verify_caveat"))
        return 0 if bulletin["status"] == "trusted" else 3

    return with_api(args, work)


def _hex_prefix(code: str) -> str:
    """The id's first 7 hex digits (28 of the code's 30 bits) for the API's prefix lookup."""
    return code_prefix(code)[0].hex()[:7]
