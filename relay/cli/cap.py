"""`jarshy compose --from-cap FILE` and `jarshy export --cap ID|all`: OASIS CAP 1.2 in and out.

The mapping is relay.cap's (pure); this module reads and writes the files, shows a person what a
CAP file becomes (every string from the file made inert) and asks before signing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from relay.cap.export import CapExportError, alert_xml
from relay.cap.fit import ONE_PACKET, fit_one_packet, on_air_size
from relay.cap.mapping import Imported, MappingError, draft_from_alert
from relay.cap.parse import MAX_CAP_BYTES, CapError, parse_alert
from relay.cap.words import format_time
from relay.cli.common import now, unlock_identity, write_bytes
from relay.cli.human import tr
from relay.compose import DraftError, build, parse_ref
from relay.crypto.keystore import Keystore
from relay.errors import UserError
from relay.inert import inert_block, inert_line, quoted
from relay.store import Store, StoredBulletin
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import KIND_NAMES, Content, Kind

CAP_KINDS = (Kind.SAFETY, Kind.CORRECTION, Kind.RETRACTION)
OWN_STATUSES = (Status.TRUSTED, Status.UNKNOWN_KEY, Status.PENDING_KEY)  # never revoked
TEXT_PREFIX = "    │ "
# The content flags a CAP file replaces, with their defaults (relay.cli.bulletins).
CONTENT_DEFAULTS = {
    "kind": "news", "text": "", "lang": None, "expires": None, "event": "other",
    "category": "safety", "severity": "unknown", "urgency": "unknown", "certainty": "unknown",
    "area": None, "point": None, "geohash": None,
}  # fmt: skip


def read_cap(path: str, created: int, language: str | None, ref: bytes | None) -> Imported:
    """The draft the CAP file at ``path`` makes, cut to fit one packet (UserError otherwise)."""
    data = read_cap_bytes(path)
    try:
        imported = draft_from_alert(parse_alert(data), created, language, ref)
        return fit_one_packet(imported, created)
    except (CapError, MappingError) as exc:
        raise UserError(f"{path}: {exc}") from None


def read_cap_bytes(path: str) -> bytes:
    """A regular file's bytes, at most MAX_CAP_BYTES + 1 read (a device or FIFO is refused
    unread: its size says nothing about what it would send)."""
    file = Path(path)
    try:
        if not file.is_file():
            raise UserError(
                f"{path}: not a regular file" if file.exists() else f"{path}: no such file"
            )
        with file.open("rb") as stream:
            data = stream.read(MAX_CAP_BYTES + 1)
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_CAP_BYTES:
        raise UserError(f"{path}: more than the {MAX_CAP_BYTES} bytes a CAP alert may be")
    return data


def compose_from_cap(args: argparse.Namespace) -> tuple[Content, int] | None:
    """Show what the CAP file becomes and ask; the content to sign (author not yet set) and its
    creation time, or None when the person declines."""
    given = [f"--{k}" for k, default in CONTENT_DEFAULTS.items() if getattr(args, k) != default]
    if given:
        raise UserError(
            f"--from-cap takes the bulletin from the file; {', '.join(given)} cannot be combined"
            " with it (only --ref, --cap-language, --as, --out and --yes can)"
        )
    created = int(now())
    try:
        ref = parse_ref(args.ref)
    except DraftError as exc:
        raise UserError(f"--ref: {exc.message}") from None
    imported = read_cap(args.from_cap, created, args.cap_language, ref)
    try:
        content = build(imported.draft, bytes(8), created)
    except DraftError as exc:
        raise UserError(f"{args.from_cap}: cannot make a bulletin of it: {exc.message}") from None
    for line in preview_lines(content, imported, on_air_size(imported.draft, created)):
        print(line)
    if not confirm(args, f"Sign this {KIND_NAMES[content.kind]} bulletin and write {args.out}?"):
        print("not signed")
        return None
    return content, created


def preview_lines(content: Content, imported: Imported, size: int) -> list[str]:
    """What a person checks before signing: the fields, the text, and every change."""
    lines = [f"kind: {KIND_NAMES[content.kind]}"]
    if content.ref is not None:
        lines.append(f"ref: {content.ref.hex()}")
    safety = content.safety
    if safety is not None:
        lines.append(f"event: {quoted(safety.event)}    category: {quoted(safety.category)}")
        lines.append(
            f"severity: {safety.severity}    urgency: {safety.urgency}"
            f"    certainty: {safety.certainty}"
        )
        if safety.area:
            lines.append(f"area: {quoted(safety.area)}")
        if imported.draft.point is not None:
            p = imported.draft.point
            lines.append(f"point: {p.latitude:.5f},{p.longitude:.5f} radius {p.radius_m} m")
        if safety.geohash:
            lines.append(f"geohash: {quoted(safety.geohash)}")
    if content.lifetime is not None:
        days, rest = divmod(content.lifetime, 86400)
        hours, minutes = rest // 3600, rest % 3600 // 60
        span = (f"{days} d " if days else "") + f"{hours} h {minutes:02d} min"
        until = format_time(content.created + content.lifetime)
        lines.append(f"expires: in {span} ({until})")
    lines.append(f"lang: {inert_line(content.lang)}")
    if content.text:
        lines.append("text:")
        lines += [TEXT_PREFIX + line for line in inert_block(content.text)]
    lines.append(f"on air: {size} bytes, fits one packet ({ONE_PACKET} at most)")
    for title, notes in (
        ("cut to fit one packet", imported.cut),
        ("carried differently", imported.approximated),
        ("not carried (Jarshy has no field for these)", imported.dropped),
    ):
        if notes:
            lines.append(f"{title}:")
            lines += [f"  - {inert_line(note, 160)}" for note in notes]
    return lines


def confirm(args: argparse.Namespace, question: str) -> bool:
    """``--yes``, or the person's answer; never a silent yes without a terminal."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UserError("not signed: no terminal to ask on (add --yes to sign without asking)")
    try:
        answer = input(f"{inert_line(question)} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def sign_cap_content(content: Content, created: int, identity_name: str | None) -> wire.Bulletin:
    """Sign the previewed content as the chosen identity (the same fields, its author set)."""
    from dataclasses import replace

    identity = unlock_identity(identity_name)
    try:
        return wire.sign(replace(content, author=identity.key_id, created=created), identity)
    except (ValueError, WireError) as exc:
        raise UserError(f"cannot make this bulletin: {exc}") from None


def own_key_ids() -> frozenset[bytes]:
    """Key ids of this home's own identities (their bulletins are exported without trust)."""
    return frozenset(info.key_id for info in Keystore().list())


def export_cap(store: Store, which: str, out: str, own: frozenset[bytes] = frozenset()) -> int:
    """Write one bulletin (``which`` = an id of at least 6 hex digits) or every one (``all``, a
    file each in the directory ``out``) as CAP 1.2: trusted ones, and those signed by ``own``
    keys (not revoked)."""
    if which != "all":
        row = _one(store, which)
        document = cap_document(store, row, own)
        if out == "-":
            sys.stdout.buffer.write(document)
            sys.stdout.flush()
        else:
            write_bytes(out, document)
            print(
                tr("cap_written", kind=tr(f"kind_{KIND_NAMES[row.kind]}"), id=row.id.hex(), out=out)
            )
        return 0
    if out == "-":
        raise UserError("--cap all writes a file per alert: give a directory with --out")
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out}: cannot make this directory ({exc.strerror})") from None
    written, skipped = 0, 0
    rows = store.by_status((Status.TRUSTED, Status.UNKNOWN_KEY, Status.PENDING_KEY))
    for row in sorted(rows, key=lambda r: r.received_at):
        if row.kind not in CAP_KINDS or not _exportable(row, own):
            continue
        try:
            document = cap_document(store, row, own)
        except UserError as exc:
            print(f"  skipped {exc}")
            skipped += 1
            continue
        write_bytes(str(folder / f"{row.id.hex()}.xml"), document)
        written += 1
    print(f"exported {written} CAP alerts to {out}" + (f", {skipped} skipped" if skipped else ""))
    return 0


def _one(store: Store, prefix: str) -> StoredBulletin:
    hexdigits = prefix.lower()
    if len(hexdigits) < 6 or any(c not in "0123456789abcdef" for c in hexdigits):
        raise UserError("--cap takes a bulletin id (at least 6 hex digits) or 'all'")
    rows = store.get_by_prefix(hexdigits)
    if not rows:
        raise UserError(f"no bulletin {hexdigits} is held here")
    if len(rows) > 1:
        raise UserError(f"{hexdigits} names {len(rows)} bulletins: give more digits")
    return rows[0]


def _exportable(row: StoredBulletin, own: frozenset[bytes]) -> bool:
    return row.status is Status.TRUSTED or (row.author in own and row.status in OWN_STATUSES)


def cap_document(store: Store, row: StoredBulletin, own: frozenset[bytes] = frozenset()) -> bytes:
    """The CAP document of a stored bulletin; UserError naming it when it has none."""
    name = row.id.hex()
    if not _exportable(row, own):
        raise UserError(
            f"{name}: its verdict is {row.status}; only trusted bulletins and your own are"
            " written as CAP (a CAP reader cannot see Jarshy's verdict)"
        )
    bulletin = _decoded(row)
    original = None
    if bulletin.content.ref is not None:
        held = store.get(bulletin.content.ref)
        original = None if held is None else _decoded(held)
    try:
        return alert_xml(bulletin, original, row.signer_name)
    except CapExportError as exc:
        raise UserError(f"{name}: {exc}") from None


def _decoded(row: StoredBulletin) -> wire.Bulletin:
    try:
        return wire.decode(row.raw)
    except WireError as exc:
        raise UserError(f"{row.id.hex()}: does not decode ({exc})") from None
