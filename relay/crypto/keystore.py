"""Identities encrypted at rest: one JSON file per identity in ``relay.paths.keystore_dir()``.

Each file is sealed under its passphrase (the format, the KDF and the parser are in
relay.crypto.keyfile); the name, public key, creation time and KDF parameters stay in clear so
that ``list`` and ``public`` need no passphrase. Files are written 0600 through a temporary file,
fsync and an atomic rename, in a 0700 directory. The format is specified in docs/keys.md. A new
signing key's passphrase is refused when very weak (relay.crypto.passphrase) unless forced.

``JARSHY_KDF`` picks the Argon2id cost of *new* files: ``moderate`` (default), ``interactive``,
``sensitive`` or ``fast``. ``fast`` is the libsodium minimum and exists for tests only: a key
file written with it falls to a passphrase-guessing attack far faster. Unlocking always uses the
parameters stored in the file.
"""

from __future__ import annotations

import contextlib
import getpass
import hmac
import json
import os
import secrets
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.secret

from relay import paths
from relay.crypto.keyfile import (
    _KDF_ALGORITHM,
    _MAX_MEMLIMIT,
    _MAX_OPSLIMIT,
    FORMAT_VERSION,
    KDF_ENV,
    KDF_PRESETS,
    CorruptKeyFile,
    DuressEntered,
    KdfParams,
    KeyInfo,
    KeyNotFound,
    KeystoreError,
    PassphraseUnavailable,
    WeakPassphrase,
    WrongPassphrase,
    _associated_data,
    _derive,
    _hex_field,
    _KeyFile,
    _parse,
    _seal,
    check_identity_name,
    kdf_from_env,
)
from relay.crypto.keys import Identity, encode_share, generate_identity
from relay.crypto.passphrase import advice, weakness
from relay.wipe import wipe_files, wipe_home

__all__ = [
    "KDF_ENV",
    "KDF_PRESETS",
    "CorruptKeyFile",
    "DuressEntered",
    "KdfParams",
    "KeyInfo",
    "KeyNotFound",
    "Keystore",
    "KeystoreError",
    "PassphraseUnavailable",
    "WeakPassphrase",
    "WrongPassphrase",
    "check_identity_name",
    "check_new_passphrase",
    "get_passphrase",
    "kdf_from_env",
    "wipe_after_duress",
]

SUFFIX = ".key"
DURESS_FILE = "duress"  # an Argon2id hash of the duress passphrase (docs/keys.md)
DURESS_FORMAT = "jarshy-duress"
MAX_FILE_BYTES = 64 * 1024
PASSPHRASE_ENV = "JARSHY_PASSPHRASE"


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(target: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``target`` (mode 0600) so that ``target`` is never half-written.

    The bytes go to a private temporary file in the same directory, are fsynced, then moved into
    place: ``os.replace`` when ``replace``, else a hard link that fails if ``target`` exists (so
    two concurrent creates cannot clobber each other). The temporary file is always removed.
    """
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise
            except OSError:  # a filesystem without hard links: check, then rename
                if target.exists():
                    raise FileExistsError(target) from None
                os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_directory(target.parent)


class Keystore:
    """The identities of this device, one encrypted file each (see the module docstring)."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        kdf: KdfParams | None = None,
        on_duress: Callable[[Path], None] | None = None,
    ) -> None:
        """``on_duress(keystore dir)`` runs when the duress passphrase is entered at
        :meth:`unlock` (default :func:`wipe_after_duress`: the whole home)."""
        self.on_duress = on_duress if on_duress is not None else wipe_after_duress
        if path is None:
            path = paths.keystore_dir()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.name == "posix":
            os.chmod(path, 0o700)
        self.path = path
        self.kdf = kdf if kdf is not None else kdf_from_env()

    def _file(self, name: str) -> Path:
        return self.path / f"{check_identity_name(name)}{SUFFIX}"

    def _load(self, name: str) -> _KeyFile:
        file = self._file(name)
        try:
            with open(file, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            raise KeyNotFound(f"no identity named {name!r} in {self.path}") from None
        except OSError as exc:
            raise CorruptKeyFile(f"cannot read {file}: {exc.strerror}") from None
        if len(data) > MAX_FILE_BYTES:
            raise CorruptKeyFile(f"{file} is too large to be a Jarshy key file")
        parsed = _parse(data, file)
        if parsed.info.name != check_identity_name(name):
            raise CorruptKeyFile(f"{file} holds identity {parsed.info.name!r}, not {name!r}")
        return parsed

    def create(self, name: str, passphrase: str, *, allow_weak: bool = False) -> Identity:
        """Generate a new identity, store it sealed with ``passphrase``, and return it.

        A very weak passphrase (relay.crypto.passphrase) raises ``WeakPassphrase`` unless
        ``allow_weak``."""
        name = check_identity_name(name)
        check_new_passphrase(passphrase, name, allow_weak)
        file = self._file(name)
        if file.exists():
            raise KeystoreError(f"an identity named {name!r} already exists")
        identity = generate_identity(name)
        data = _seal(identity, passphrase, self.kdf, datetime.now(UTC))
        try:
            _write_atomically(file, data, replace=False)
        except FileExistsError:
            raise KeystoreError(f"an identity named {name!r} already exists") from None
        return identity

    def list(self) -> list[KeyInfo]:
        """Every readable identity, sorted by name; unreadable files are skipped."""
        found: list[KeyInfo] = []
        for file in sorted(self.path.glob(f"*{SUFFIX}")):
            if file.name.startswith("."):
                continue
            with contextlib.suppress(KeystoreError):
                found.append(self._load(file.name[: -len(SUFFIX)]).info)
        return sorted(found, key=lambda info: info.name)

    def public(self, name: str) -> KeyInfo:
        """The public part of identity ``name`` (no passphrase needed)."""
        return self._load(name).info

    def unlock(self, name: str, passphrase: str) -> Identity:
        """Decrypt identity ``name``. Raises ``WrongPassphrase`` or ``CorruptKeyFile``."""
        stored = self._load(name)
        enc_key, check = _derive(passphrase, stored.salt, stored.kdf)
        if not hmac.compare_digest(check, stored.check):
            message = f"wrong passphrase for identity {stored.info.name!r}"
            if self.is_duress(passphrase):
                self.on_duress(self.path)
                raise DuressEntered(message)
            raise WrongPassphrase(message)
        try:
            seed = nacl.secret.Aead(enc_key).decrypt(
                stored.ciphertext, _associated_data(stored.header), stored.nonce
            )
        except nacl.exceptions.CryptoError:
            raise CorruptKeyFile(
                f"the key file of {stored.info.name!r} was modified or damaged; "
                "restore it from a backup"
            ) from None
        identity = Identity(stored.info.name, seed)
        if identity.public_key != stored.info.public_key:
            raise CorruptKeyFile(f"the key file of {stored.info.name!r} is inconsistent")
        return identity

    def change_passphrase(self, name: str, old: str, new: str, *, allow_weak: bool = False) -> None:
        """Re-seal identity ``name`` under ``new`` (atomically; the old file stays until done)."""
        check_new_passphrase(new, name, allow_weak)
        stored = self._load(name)
        identity = self.unlock(name, old)
        data = _seal(identity, new, self.kdf, stored.info.created)
        _write_atomically(self._file(name), data, replace=True)

    def delete(self, name: str) -> None:
        """Remove identity ``name`` (flash storage may keep old blocks: see docs/keys.md)."""
        file = self._file(name)
        try:
            file.unlink()
        except FileNotFoundError:
            raise KeyNotFound(f"no identity named {name!r} in {self.path}") from None
        _fsync_directory(self.path)

    # -- the duress passphrase ----------------------------------------------------------------

    @property
    def duress_file(self) -> Path:
        return self.path / DURESS_FILE

    def set_duress(self, passphrase: str) -> None:
        """Store an Argon2id hash of ``passphrase``: entered at an unlock prompt, it wipes.
        Refused when it opens one of the identities (it would never wipe)."""
        check_new_passphrase(passphrase)
        for info in self.list():
            stored = self._load(info.name)
            if hmac.compare_digest(_derive(passphrase, stored.salt, stored.kdf)[1], stored.check):
                raise KeystoreError(
                    f"that is the passphrase of {info.name!r}: choose a different duress passphrase"
                )
        salt = secrets.token_bytes(argon2id.SALTBYTES)
        digest = _duress_hash(passphrase, salt, self.kdf)
        document = {
            "format": DURESS_FORMAT,
            "version": FORMAT_VERSION,
            "kdf": {"algorithm": _KDF_ALGORITHM, "opslimit": self.kdf.opslimit,
                    "memlimit": self.kdf.memlimit, "salt": salt.hex()},
            "hash": digest.hex(),
        }  # fmt: skip
        _write_atomically(self.duress_file, json.dumps(document).encode(), replace=True)

    def clear_duress(self) -> bool:
        """Forget the duress passphrase; False if none was set."""
        try:
            self.duress_file.unlink()
        except FileNotFoundError:
            return False
        _fsync_directory(self.path)
        return True

    def has_duress(self) -> bool:
        return self.duress_file.is_file()

    def is_duress(self, passphrase: str) -> bool:
        """True if ``passphrase`` is the duress passphrase (False with none set or a damaged
        file: a broken duress file must never wipe)."""
        try:
            with open(self.duress_file, "rb") as handle:
                doc = json.loads(handle.read(MAX_FILE_BYTES))
            kdf_doc = doc["kdf"]
            if doc["format"] != DURESS_FORMAT or kdf_doc["algorithm"] != _KDF_ALGORITHM:
                return False
            kdf = KdfParams(int(kdf_doc["opslimit"]), int(kdf_doc["memlimit"]))
            if not (
                argon2id.OPSLIMIT_MIN <= kdf.opslimit <= _MAX_OPSLIMIT
                and argon2id.MEMLIMIT_MIN <= kdf.memlimit <= _MAX_MEMLIMIT
            ):
                return False
            salt = _hex_field(kdf_doc, "salt", argon2id.SALTBYTES)
            expected = bytes.fromhex(doc["hash"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        return hmac.compare_digest(_duress_hash(passphrase, salt, kdf), expected)

    def export_share(self, name: str) -> str:
        """The share string of identity ``name``'s public key."""
        info = self.public(name)
        return encode_share(info.public_key, info.name)


def _duress_hash(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return argon2id.kdf(32, secret, salt, opslimit=kdf.opslimit, memlimit=kdf.memlimit)


def wipe_after_duress(keystore_dir: Path) -> None:
    """The duress passphrase's default action: wipe the Jarshy home holding this keystore
    (relay.wipe), or only the keystore's own folder when it lives elsewhere."""
    if keystore_dir.name == "keys":
        wipe_home(keystore_dir.parent)
    else:
        wipe_files(keystore_dir)


def check_new_passphrase(passphrase: str, name: str = "", allow_weak: bool = True) -> None:
    """Refuse an empty passphrase, and a very weak one for the signing key ``name`` unless
    ``allow_weak`` (``WeakPassphrase``, its message the reason and what to do)."""
    if not isinstance(passphrase, str) or not passphrase:
        raise KeystoreError("the passphrase must not be empty")
    if not allow_weak:
        reason = weakness(passphrase, name)
        if reason is not None:
            raise WeakPassphrase(advice(reason))


def get_passphrase(
    prompt: str = "Passphrase: ",
    confirm: bool = False,
    check: Callable[[str], None] | None = None,
) -> str:
    """A passphrase from ``$JARSHY_PASSPHRASE``, else asked on the terminal (twice if ``confirm``).

    ``check`` judges it first (before the confirmation is asked for), e.g.
    :func:`check_new_passphrase`. Raises ``PassphraseUnavailable`` with no variable and no
    terminal, ``KeystoreError`` for an empty passphrase or a mismatched confirmation.
    """
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        if not from_env:
            raise KeystoreError(f"{PASSPHRASE_ENV} is set but empty")
        if check is not None:
            check(from_env)
        return from_env
    if not sys.stdin.isatty():
        raise PassphraseUnavailable(
            f"no terminal to ask for the passphrase on; set {PASSPHRASE_ENV} for scripted use"
        )
    passphrase = getpass.getpass(prompt)
    if not passphrase:
        raise KeystoreError("the passphrase must not be empty")
    if check is not None:
        check(passphrase)
    if confirm and getpass.getpass("Repeat the passphrase: ") != passphrase:
        raise KeystoreError("the two passphrases do not match")
    return passphrase
