"""`jarshy compose`, `jarshy inspect` and `jarshy size`: make and check on-air bytes offline."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from relay import vocabulary
from relay.cli.common import now, open_node, read_bytes, unlock_identity, write_bytes
from relay.cli.human import tr
from relay.cli.inspect_view import describe_lines, verdict_line
from relay.cli.sizes import draft_note
from relay.compose import Draft, DraftError, Point, build, parse_ref
from relay.crypto.keys import Identity, fingerprint
from relay.errors import UserError
from relay.ingest import Outcome
from relay.packets import bulletin_from_packet_file, to_packet_file
from relay.trust import Status, evaluate
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import (
    CATEGORIES,
    CERTAINTIES,
    EVENTS,
    KIND_NAMES,
    SEVERITIES,
    URGENCIES,
    Content,
    Kind,
    SafetyInfo,
)
from relay.wire.fragments import split

COMPOSE_KINDS = vocabulary.COMPOSE_KINDS
_DURATION = re.compile(r"^\s*(\d+)\s*([mhd]?)\s*$")


def add_content_arguments(parser: Any) -> None:
    """The bulletin fields ``compose`` and ``send`` share: kind, text, language, safety fields."""
    parser.add_argument("--kind", choices=COMPOSE_KINDS, default="news")
    parser.add_argument("--text", default="")
    parser.add_argument("--lang", help="ru, kk, kk-Latn, en, mixed (default: guessed)")
    parser.add_argument("--expires", help="lifetime: 90m, 6h, 2d (safety default 24h)")
    parser.add_argument("--ref", help="hex id of the bulletin corrected or retracted")
    parser.add_argument("--event", default="other", help=f"safety: {', '.join(EVENTS)} or text")
    parser.add_argument("--category", default="safety", help=", ".join(CATEGORIES))
    parser.add_argument("--severity", choices=SEVERITIES, default="unknown")
    parser.add_argument("--urgency", choices=URGENCIES, default="unknown")
    parser.add_argument("--certainty", choices=CERTAINTIES, default="unknown")
    parser.add_argument("--area", help="safety: area description")
    parser.add_argument("--point", help="safety: LAT,LON,RADIUS_M")
    parser.add_argument("--geohash")
    parser.add_argument("--as", dest="identity", help="identity to sign with")


def register(sub: Any) -> None:
    compose = sub.add_parser("compose", help="sign a bulletin and write its exact on-air bytes")
    add_content_arguments(compose)
    compose.add_argument("--out", required=True, help="file for the on-air bytes")
    compose.add_argument("--from-cap", metavar="FILE", help="take the bulletin from a CAP 1.2 file")
    compose.add_argument("--cap-language", metavar="LANG", help="with --from-cap: which <info>")
    compose.add_argument("--yes", action="store_true", help="with --from-cap: sign without asking")
    compose.set_defaults(handler=compose_command)

    inspect = sub.add_parser("inspect", help="decode and verify a bulletin file")
    inspect.add_argument("file")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(handler=inspect_command)

    size = sub.add_parser("size", help="on-air bytes and time on air of a text")
    size.add_argument("--text", required=True)
    size.add_argument("--lang")
    size.add_argument("--kind", choices=COMPOSE_KINDS, default="news")
    size.set_defaults(handler=size_command)


def parse_duration(text: str) -> int:
    """Seconds in ``90m``, ``6h``, ``2d`` or a bare number of minutes."""
    match = _DURATION.match(text)
    if not match:
        raise UserError(tr("err_duration", text=repr(text)))
    value, unit = int(match.group(1)), match.group(2) or "m"
    seconds = value * {"m": 60, "h": 3600, "d": 86400}[unit]
    if not 60 <= seconds <= 400 * 86400:
        raise UserError(tr("err_lifetime"))
    return seconds


def parse_point(text: str) -> Point:
    try:
        lat, lon, radius = (part.strip() for part in text.split(","))
        return Point(float(lat), float(lon), int(radius))
    except ValueError:
        raise UserError(tr("err_point")) from None


FLAGS = {"text": "--text", "ref": "--ref", "point": "--point", "expires": "--expires"}


def draft_from_args(args: argparse.Namespace) -> Draft:
    """The draft the compose arguments describe (relay.compose builds and checks it)."""
    kind = Kind[args.kind.upper()]
    safety = point = None
    if kind is Kind.SAFETY:
        safety = SafetyInfo(
            event=args.event,
            category=args.category,
            severity=args.severity,
            urgency=args.urgency,
            certainty=args.certainty,
            area=args.area,
            geohash=args.geohash,
        )
        point = parse_point(args.point) if args.point else None
    lifetime = parse_duration(args.expires) if args.expires else None
    return Draft(kind, args.text, args.lang, lifetime, parse_ref(args.ref), safety, point)


def build_content(args: argparse.Namespace, author: bytes, created: int) -> Content:
    """The typed content the compose arguments describe (validated like a receiver would)."""
    try:
        return build(draft_from_args(args), author, created)
    except DraftError as exc:
        raise UserError(f"{FLAGS.get(exc.field, '--' + exc.field)}: {exc.message}") from None


def sign_content(content: Content, identity: Identity) -> wire.Bulletin:
    try:
        return wire.sign(content, identity)
    except (ValueError, WireError) as exc:
        raise UserError(tr("err_cannot_make", why=exc)) from None


def compose_command(args: argparse.Namespace) -> int:
    if args.from_cap:
        from relay.cli.cap import compose_from_cap, sign_cap_content

        previewed = compose_from_cap(args)
        if previewed is None:
            return 1
        return publish_signed(sign_cap_content(*previewed, args.identity), args.out)
    build_content(args, bytes(8), int(now()))  # argument errors before the passphrase prompt
    announce = draft_note(draft_from_args(args))  # before signing: packets, airtime, characters
    if announce:
        print(announce, file=sys.stderr)
    identity = unlock_identity(args.identity)
    content = build_content(args, identity.key_id, int(now()))
    return publish_signed(sign_content(content, identity), args.out)


def publish_signed(signed: wire.Bulletin, out: str) -> int:
    """Take a signed bulletin into this node's store and write its packet file to ``out``."""
    packets = split(signed.raw)
    with open_node() as node:
        result = node.ingest(signed.raw, now(), source="local")
    if result.outcome is Outcome.REJECTED:
        raise UserError(tr("err_rejected", reason=result.reason))
    write_bytes(out, to_packet_file(signed.raw))
    fits = tr("fits_one") if len(packets) == 1 else tr("n_packets", n=len(packets))
    print(tr("composed", id=signed.id.hex(), bytes=len(signed.raw), fits=fits, out=out))
    return 0


def describe(bulletin: wire.Bulletin, with_text: bool = True) -> dict[str, Any]:
    """Every field of a bulletin as JSON-ready values (the text only if ``with_text``)."""
    c = bulletin.content
    info: dict[str, Any] = {
        "id": bulletin.id.hex(),
        "kind": KIND_NAMES[c.kind],
        "author": c.author.hex(),
        "created": c.created,
        "lang": c.lang,
        "lifetime": c.lifetime,
    }
    if with_text:
        info["text"] = c.text
    info["bytes"] = len(bulletin.raw)
    info["packets"] = len(split(bulletin.raw))
    if c.ref is not None:
        info["ref"] = c.ref.hex()
    if c.safety is not None:
        info["safety"] = {k: getattr(c.safety, k) for k in c.safety.__slots__}
    if c.subject_key is not None:
        info["subject_fingerprint"] = fingerprint(c.subject_key)
    for name in ("name", "kinds", "reason"):
        if getattr(c, name) is not None:
            info[name] = getattr(c, name)
    if c.revoked is not None:
        info["revoked"] = c.revoked.hex()
    return info


def inspect_command(args: argparse.Namespace) -> int:
    """Decode, verify and judge a packet file in the order of docs/protocol.md §7: header and
    fields, then the signature, and the text only for a bulletin whose signature did not fail."""
    data = read_bytes(args.file)
    try:
        envelope = wire.parse(bulletin_from_packet_file(data))
    except WireError as exc:
        return _report_invalid(args, str(exc))
    textless = envelope.textless()  # key lookup and verdict never read the text
    with open_node() as node:
        public_key = node.state.public_key(textless)
        signature_ok = None if public_key is None else wire.verify(textless, public_key)
        verdict = evaluate(node.state, textless, signature_ok, now())
        bulletin = textless
        if verdict.status is not Status.INVALID:
            try:
                bulletin = wire.open_text(envelope)
            except WireError as exc:
                return _report_invalid(args, str(exc), describe(textless, with_text=False))
    info = describe(bulletin, with_text=verdict.status is not Status.INVALID)
    judged = {
        "verdict": str(verdict.status),
        "verdict_reason": verdict.reason,
        "signer": verdict.name,
        "claimed_name": verdict.claimed_name,
    }
    if args.json:
        print(json.dumps({**info, **judged}, ensure_ascii=False))
    else:
        print(verdict_line(str(verdict.status), verdict.reason))
        extra = {k: v for k, v in judged.items() if k in ("signer", "claimed_name")}
        for line in describe_lines({**info, **extra}, now()):
            print(line)
    return 1 if verdict.status is Status.INVALID else 0


def _report_invalid(args: argparse.Namespace, why: str, info: dict[str, Any] | None = None) -> int:
    if args.json:
        print(json.dumps({**(info or {}), "verdict": "invalid", "verdict_reason": why},
                         ensure_ascii=False))  # fmt: skip
    else:
        print(verdict_line("invalid", why))
        for line in describe_lines(info or {}, now()):
            print(line)
    return 1


def size_command(args: argparse.Namespace) -> int:
    from relay.crypto.keys import generate_identity
    from relay.i18n.limits import one_packet_characters
    from relay.lora import PRESETS, packet_airtime

    scratch = generate_identity("size")
    args.expires, args.ref = None, ("0" * 16 if args.kind in ("correction", "retraction") else None)
    args.event, args.category, args.severity = "other", "safety", "unknown"
    args.urgency, args.certainty, args.area, args.point, args.geohash = (
        "unknown", "unknown", None, None, None,
    )  # fmt: skip
    signed = sign_content(build_content(args, scratch.key_id, int(now())), scratch)
    packets = split(signed.raw)
    print(tr("size_text", chars=len(args.text), text_lang=signed.content.lang))
    print(tr("size_air", bytes=len(signed.raw), packets=len(packets)))
    print(tr("fits_one") if len(packets) == 1 else tr("size_not_fits"))
    if len(packets) > 1:
        chars = one_packet_characters(draft_from_args(args), int(now()))
        print(tr("size_max", chars=chars))
    for name in PRESETS:
        seconds = sum(packet_airtime(len(p), name) for p in packets)
        print(f"  {name:<14} {seconds * 1000:8.0f} ms")
    return 0
