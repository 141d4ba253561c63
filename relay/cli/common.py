"""Shared plumbing of the offline commands: the node's store, the keystore, identities, clocks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from relay import paths
from relay.cli.human import tr
from relay.crypto.keys import Identity, SharedKey, ShareError, decode_share
from relay.crypto.keystore import Keystore, get_passphrase
from relay.errors import UserError
from relay.ingest import Ingest
from relay.store import Store


def now() -> float:
    """The local wall clock (the only place the CLI reads it)."""
    return time.time()


@contextmanager
def open_node() -> Iterator[Ingest]:
    """The node's store and ingest pipeline, closed on exit."""
    store = Store(paths.database_path())
    try:
        yield Ingest(store)
    finally:
        store.close()


def choose_identity_name(keystore: Keystore, name: str | None) -> str:
    """``name`` if given, else the only identity there is."""
    if name:
        return name
    names = [info.name for info in keystore.list()]
    if len(names) == 1:
        return names[0]
    if not names:
        raise UserError(tr("err_no_identity"))
    raise UserError(tr("err_several_ids", names=", ".join(names)))


def unlock_identity(name: str | None) -> Identity:
    """Unlock an identity for signing (passphrase from JARSHY_PASSPHRASE or a prompt)."""
    from relay.cli.wipe import wipe_on_duress

    keystore = Keystore(on_duress=wipe_on_duress)  # a duress passphrase stops the daemon too
    chosen = choose_identity_name(keystore, name)
    keystore.public(chosen)  # a clear "not found" before asking for a passphrase
    return keystore.unlock(chosen, get_passphrase(tr("passphrase_prompt", name=chosen)))


def read_share(text_or_file: str) -> SharedKey:
    """Decode a share string given inline or as a file holding one."""
    candidate = text_or_file.strip()
    path = Path(candidate)
    if not candidate.lower().startswith("jarshy:") and path.is_file():
        candidate = path.read_text(encoding="utf-8", errors="replace").strip()
    try:
        return decode_share(candidate)
    except ShareError as exc:
        raise UserError(tr("err_bad_share", why=exc)) from None


def read_bytes(path: str, limit: int = 64 * 1024 * 1024) -> bytes:
    """Read a file the user named, with a clear error and a size bound."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > limit:
            raise UserError(tr("err_too_big", path=path, size=size, limit=limit))
        return file.read_bytes()
    except FileNotFoundError:
        raise UserError(tr("err_no_file", path=path)) from None
    except IsADirectoryError:
        raise UserError(tr("err_is_dir", path=path)) from None
    except PermissionError:
        raise UserError(tr("err_denied", path=path)) from None


def write_bytes(path: str, data: bytes) -> None:
    """Write a file the user named, with a clear error."""
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise UserError(tr("err_cannot_write", path=path, why=exc.strerror)) from None
