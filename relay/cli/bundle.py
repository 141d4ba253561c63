"""`jarshy export` and `jarshy import`: carry bulletins and keys on a USB stick."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from relay.bundle import RECORD_KEY, BundleError, load_bundle, write_bundle
from relay.cli.common import now, open_node, write_bytes
from relay.cli.human import tr
from relay.errors import UserError
from relay.inert import inert_line
from relay.ingest import Outcome
from relay.trust import Status


def register(sub: Any) -> None:
    export = sub.add_parser("export", help="write held bulletins and keys to a bundle file")
    export.add_argument("--out", required=True, help="the file ('-': standard output for --cap ID)")
    export.add_argument(
        "--cap",
        metavar="ID|all",
        help="instead: a trusted safety alert, correction or retraction as OASIS CAP 1.2 XML;"
        " 'all': every one, a file each in the --out directory",
    )
    export.set_defaults(handler=export_command)
    imp = sub.add_parser("import", help="verify and take in a bundle file")
    imp.add_argument("file")
    imp.set_defaults(handler=import_command)


def export_command(args: argparse.Namespace) -> int:
    if args.cap:
        from relay.cli.cap import export_cap, own_key_ids

        with open_node() as node:
            return export_cap(node.store, args.cap, args.out, own_key_ids())
    with open_node() as node:
        keys = [public_key for _, public_key in node.store.known_keys()]
        keys += [public_key for _, public_key, _ in node.store.roots()]
        rows = node.store.by_status(tuple(s for s in Status if s is not Status.INVALID))
        bulletins = [row.raw for row in sorted(rows, key=lambda r: r.received_at)]
    write_bytes(args.out, write_bundle(bulletins, dict.fromkeys(keys)))
    print(tr("exported", bulletins=len(bulletins), keys=len(set(keys)), out=args.out))
    return 0


def import_command(args: argparse.Namespace) -> int:
    """Read the whole bundle first (regular files only, at most ``MAX_BUNDLE_BYTES``): a refused
    or damaged file stores nothing."""
    try:
        records = load_bundle(args.file)
    except BundleError as exc:
        raise UserError(str(exc)) from None
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    with open_node() as node, node.store.batch():
        for kind, payload in records:
            if kind == RECORD_KEY:
                if len(payload) == 32:
                    node.learn_key(payload, now())
                    outcomes["keys"] += 1
                continue
            result = node.ingest(payload, now(), source="bundle")
            outcomes[str(result.outcome)] += 1
            if result.outcome is Outcome.REJECTED:
                reasons[result.reason] += 1
            elif result.outcome is Outcome.ACCEPTED and result.verdict is not None:
                outcomes[str(result.verdict.status)] += 1
    print(tr("imported", accepted=outcomes["accepted"], duplicate=outcomes["duplicate"],
             rejected=outcomes["rejected"], keys=outcomes["keys"]))  # fmt: skip
    for status in Status:
        if outcomes[str(status)]:
            print(tr("imported_status", status=tr(f"st_w_{status}"), n=outcomes[str(status)]))
    for reason, count in reasons.most_common():
        print(tr("imported_rejected", reason=inert_line(reason), n=count))
    return 0
