"""`jarshy keys ...` and `jarshy trust ...`: identities, certificates, revocations, roots."""

from __future__ import annotations

import argparse
from typing import Any

from relay.cli.common import (
    choose_identity_name,
    now,
    open_node,
    read_share,
    unlock_identity,
    write_bytes,
)
from relay.cli.human import tr
from relay.crypto.keys import encode_share, fingerprint, key_id
from relay.crypto.keystore import (
    Keystore,
    WeakPassphrase,
    check_identity_name,
    check_new_passphrase,
    get_passphrase,
)
from relay.crypto.passphrase import MIN_LENGTH, weakness
from relay.errors import UserError
from relay.inert import inert_line, quoted
from relay.ingest import Outcome
from relay.wire import bulletin as wire
from relay.wire.fields import CERTIFY_BIT, KIND_BY_NAME, REVOCATION_REASONS, Content, Kind

DAY = 24 * 3600


def register(sub: Any) -> None:
    keys = sub.add_parser("keys", help="your identities: create, list, share, certify, revoke")
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    new = ksub.add_parser("new", help="create an identity (encrypted with a passphrase)")
    new.add_argument("name")
    new.add_argument(
        "--force-weak-passphrase", action="store_true",
        help="accept a passphrase that is refused as very weak (short, common, a run, the name)",
    )  # fmt: skip
    new.set_defaults(handler=keys_new)
    ksub.add_parser("list", help="list identities").set_defaults(handler=keys_list)
    duress = ksub.add_parser(
        "duress", help="set a duress passphrase: entered at an unlock prompt, it wipes this node"
    )
    duress.add_argument("--clear", action="store_true", help="forget the duress passphrase")
    duress.set_defaults(handler=keys_duress)
    export = ksub.add_parser(
        "share", aliases=["export"], help="print an identity's share string (to give readers)"
    )
    export.add_argument("name", nargs="?")
    export.add_argument("--qr", action="store_true", help="also print a terminal QR code")
    export.add_argument(
        "--trust-file", action="store_true",
        help="print a trust file (jarshy-trust 1) for relays' `radio provision --trust-file`: "
        "this identity, or every identity when none is named",
    )  # fmt: skip
    export.set_defaults(handler=keys_export)
    certify = ksub.add_parser("certify", help="certify someone's key for some kinds")
    certify.add_argument("share", help="their share string or a file holding it")
    certify.add_argument("--name", required=True, help="the name you vouch for")
    certify.add_argument("--kinds", default="news,safety,correction,retraction")
    certify.add_argument("--days", type=int, default=90)
    certify.add_argument("--may-certify", action="store_true", help="let them certify others")
    certify.add_argument("--as", dest="identity", help="your identity to sign with")
    certify.add_argument("--out", help="also write the certificate's on-air bytes here")
    certify.set_defaults(handler=keys_certify)
    revoke = ksub.add_parser("revoke", help="revoke your own key or one you certified")
    revoke.add_argument("target", nargs="?", help="share string or hex key id (default: yourself)")
    revoke.add_argument("--reason", choices=REVOCATION_REASONS, default="unspecified")
    revoke.add_argument("--as", dest="identity")
    revoke.add_argument("--out")
    revoke.set_defaults(handler=keys_revoke)

    trust = sub.add_parser("trust", help="the keys you trust as roots")
    tsub = trust.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    add = tsub.add_parser("add", help="trust a key (share string or file)")
    add.add_argument("share")
    add.add_argument("--name", help="name to show (default: the one in the share string)")
    add.set_defaults(handler=trust_add)
    tsub.add_parser("list", help="list trusted roots").set_defaults(handler=trust_list)
    remove = tsub.add_parser("remove", help="stop trusting a root")
    remove.add_argument("key", help="hex key id prefix, fingerprint or name")
    remove.set_defaults(handler=trust_remove)


def keys_new(args: argparse.Namespace) -> int:
    keystore = Keystore()
    name = check_identity_name(args.name)  # a bad name is told before any prompt
    weak_ok = args.force_weak_passphrase

    def judged(passphrase: str) -> None:  # a weak one is refused before it is typed twice
        reason = None if weak_ok else weakness(passphrase, name)
        if reason is not None:
            raise WeakPassphrase(tr("ky_weak", reason=_weakness_words(reason), min=MIN_LENGTH))
        check_new_passphrase(passphrase, name, weak_ok)

    passphrase = get_passphrase(tr("ky_new_prompt", name=name), confirm=True, check=judged)
    identity = keystore.create(name, passphrase, allow_weak=weak_ok)
    announcement = Content(
        kind=Kind.ANNOUNCEMENT,
        author=identity.key_id,
        created=int(now()),
        subject_key=identity.public_key,
        name=identity.name,
    )
    signed = wire.sign(announcement, identity)
    share = encode_share(identity.public_key, identity.name)
    # Your own identity is trusted on your own node: a root named after it (by the running
    # daemon, the one writer of trust while it runs; else in the store directly).
    ask_daemon("trust.add", share=share, name=identity.name)
    with open_node() as node:  # also when a daemon runs: it may hold another (simulated) store
        node.learn_key(identity.public_key, now())
        node.add_root(identity.public_key, identity.name, now())
        node.ingest(signed.raw, now(), source="local")
    print(tr("ky_created", name=inert_line(identity.name)))
    print(tr("ky_fingerprint", fp=identity.fingerprint))
    print(share)
    print(tr("ky_next"))
    return 0


def _weakness_words(reason: str) -> str:
    """relay.crypto.passphrase's reason (English) in the CLI's language; as given if unknown."""
    words = reason.split()
    if reason.startswith("it is ") and reason.endswith(" long") and words[2].isdigit():
        n = int(words[2])
        return tr("ky_weak_length_one" if n == 1 else "ky_weak_length", n=n)
    if reason.startswith("it uses only ") and words[3].isdigit():
        n = int(words[3])
        return tr("ky_weak_distinct_one" if n == 1 else "ky_weak_distinct", n=n)
    key = _WEAKNESS_KEYS.get(reason)
    return tr(key) if key else reason


_WEAKNESS_KEYS = {
    "it is only digits, like a date or a phone number": "ky_weak_digits",
    "it is a run of letters, digits or keys in a row": "ky_weak_run",
    "it is one of the most common passwords": "ky_weak_common",
    "it is a short piece repeated": "ky_weak_repeated",
    "it is the key's own name": "ky_weak_name",
}


def keys_duress(args: argparse.Namespace) -> int:
    keystore = Keystore()
    if args.clear:
        print(tr("ky_duress_forgotten" if keystore.clear_duress() else "ky_duress_none"))
        return 0
    keystore.set_duress(get_passphrase(tr("ky_duress_prompt"), confirm=True))
    print(tr("ky_duress_set"))
    return 0


def keys_list(args: argparse.Namespace) -> int:
    infos = Keystore().list()
    if not infos:
        print(tr("ky_no_identities"))
    for info in infos:
        print(f"{inert_line(info.name)}\t{info.key_id.hex()}\t{info.fingerprint}")
    return 0


def keys_export(args: argparse.Namespace) -> int:
    keystore = Keystore()
    if args.trust_file:
        from relay.crypto.keys import SharedKey
        from relay.provision.trust_file import write_trust_file

        infos = [keystore.public(args.name)] if args.name else keystore.list()
        if not infos:
            raise UserError(tr("ky_no_identity_yet"))
        keys = [SharedKey(i.public_key, i.name, i.fingerprint) for i in infos]
        print(write_trust_file(keys, "Published by: " + ", ".join(i.name for i in infos)), end="")
        return 0
    share = keystore.export_share(choose_identity_name(keystore, args.name))
    print(share)
    if args.qr:
        from relay.crypto.qr import qr_text

        print(qr_text(share))
    return 0


def parse_kinds(text: str, may_certify: bool) -> int:
    mask = 0
    for word in filter(None, (part.strip().lower() for part in text.split(","))):
        kind = KIND_BY_NAME.get(word)
        if kind is None or kind not in (Kind.NEWS, Kind.SAFETY, Kind.CORRECTION, Kind.RETRACTION):
            raise UserError(tr("ky_unknown_kind", word=repr(word)))
        mask |= 1 << int(kind)
    if not mask:
        raise UserError(tr("ky_no_kinds"))
    return mask | (CERTIFY_BIT if may_certify else 0)


def _publish_locally(signed: wire.Bulletin, out: str | None, what: str) -> None:
    """Ingest a certificate or revocation here (``what``: "cert" or "rev") and say so."""
    with open_node() as node:
        result = node.ingest(signed.raw, now(), source="local")
    if result.outcome is Outcome.REJECTED:
        raise UserError(tr(f"ky_{what}_rejected", reason=inert_line(result.reason)))
    if out:
        write_bytes(out, signed.raw)
    made = tr(f"ky_{what}_made", id=signed.id.hex(), size=len(signed.raw))
    print(made + (tr("ky_written_to", path=inert_line(out)) if out else ""))


def keys_certify(args: argparse.Namespace) -> int:
    shared = read_share(args.share)
    if not 1 <= args.days <= 400:
        raise UserError(tr("ky_days"))
    kinds = parse_kinds(args.kinds, args.may_certify)
    identity = unlock_identity(args.identity)
    content = Content(
        kind=Kind.CERTIFICATE,
        author=identity.key_id,
        created=int(now()),
        lifetime=args.days * DAY,
        subject_key=shared.public_key,
        name=args.name,
        kinds=kinds,
    )
    _publish_locally(wire.sign(content, identity), args.out, "cert")
    print(tr("ky_certified", name=inert_line(args.name), fp=shared.fingerprint))
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    identity = unlock_identity(args.identity)
    if args.target is None:
        revoked = identity.key_id
    elif len(args.target) == 16 and all(c in "0123456789abcdefABCDEF" for c in args.target):
        revoked = bytes.fromhex(args.target)
    else:
        revoked = key_id(read_share(args.target).public_key)
    content = Content(
        kind=Kind.REVOCATION,
        author=identity.key_id,
        created=int(now()),
        revoked=revoked,
        reason=args.reason,
    )
    _publish_locally(wire.sign(content, identity), args.out, "rev")
    return 0


def ask_daemon(method: str, **params: object) -> Any:
    """Ask the running daemon (the one writer of the store while it runs); None if none runs."""
    import asyncio

    from relay import paths
    from relay.api_client import ApiClient, ApiError, NoDaemon

    async def call() -> Any:
        async with ApiClient(paths.socket_path()) as api:
            return await api.call(method, **params)

    try:
        return asyncio.run(call())
    except NoDaemon:
        return None
    except ApiError as exc:
        raise UserError(exc.message) from None


def trust_add(args: argparse.Namespace) -> int:
    shared = read_share(args.share)
    name = args.name or shared.name or fingerprint(shared.public_key)
    answer = ask_daemon("trust.add", share=args.share.strip(), name=name)
    if answer is not None:
        count, key = int(answer["changed"]), "ky_trusting_daemon"
    else:
        with open_node() as node:
            count, key = len(node.add_root(shared.public_key, name, now())), "ky_trusting"
    print(tr(key, name=inert_line(name), fp=shared.fingerprint, n=count))
    return 0


def trust_list(args: argparse.Namespace) -> int:
    roots = _root_rows()
    if not roots:
        print(tr("ky_no_roots"))
    for kid_hex, fp, name in roots:
        print(f"{inert_line(name)}\t{kid_hex}\t{fp}")
    return 0


def _root_rows() -> list[tuple[str, str, str]]:
    """(key id hex, fingerprint, name) of the trusted roots: the running daemon's, else stored."""
    listed = ask_daemon("trust.list")
    if listed is not None:
        return [(str(r["key_id"]), str(r["fingerprint"]), str(r["name"])) for r in listed]
    with open_node() as node:
        return [(kid.hex(), fingerprint(pk), name) for kid, pk, name in node.store.roots()]


def trust_remove(args: argparse.Namespace) -> int:
    wanted = args.key.strip().lower()
    matches = [
        (kid_hex, name)
        for kid_hex, fp, name in _root_rows()
        if kid_hex.startswith(wanted) or fp.lower() == wanted or name.lower() == wanted
    ]
    if len(matches) != 1:
        found = "ky_match_none" if not matches else "ky_match_several"
        raise UserError(tr(found, key=quoted(args.key)))
    kid_hex, name = matches[0]
    answer = ask_daemon("trust.remove", key_id=kid_hex)
    if answer is not None:
        count, key = int(answer["changed"]), "ky_untrusting_daemon"
    else:
        with open_node() as node:
            count, key = len(node.remove_root(bytes.fromhex(kid_hex), now())), "ky_untrusting"
    print(tr(key, name=inert_line(name), n=count))
    return 0
