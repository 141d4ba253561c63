"""The Jarshy key file: its format (docs/keys.md), the Argon2id cost, sealing and parsing.

The secret (the 32-byte Ed25519 seed) is sealed with XChaCha20-Poly1305 under a key derived from
the passphrase with Argon2id; the name, public key, creation time and KDF parameters stay in clear
and are bound to the ciphertext as associated data. Parsing is bounded and hostile-input safe:
anything malformed is ``CorruptKeyFile``. Files and directories are relay.crypto.keystore's.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.pwhash.argon2id as argon2id
import nacl.secret

from relay.crypto.keys import (
    PUBLIC_KEY_LEN,
    SEED_LEN,
    Identity,
    check_name,
    fingerprint,
    key_id,
)
from relay.errors import UserError

FORMAT = "jarshy-identity"
FORMAT_VERSION = 1
KDF_ENV = "JARSHY_KDF"

_KDF_ALGORITHM = "argon2id13"
_CIPHER_ALGORITHM = "xchacha20poly1305-ietf"
_CHECK_LEN = 16
_ENC_PERSON = b"jarshy-ks-enc-v1"
_CHECK_PERSON = b"jarshy-ks-chk-v1"
_FORBIDDEN_NAME_CHARS = frozenset('/\\:*?"<>|')


class KeystoreError(UserError):
    """A keystore operation that cannot be done; the message says what to do about it."""


class KeyNotFound(KeystoreError):
    """No identity of that name in the keystore."""


class WrongPassphrase(KeystoreError):
    """The passphrase does not open this identity (the file is left untouched)."""


class DuressEntered(WrongPassphrase):
    """The duress passphrase was entered: the home was wiped.  Its message is a wrong
    passphrase's, so an onlooker sees an ordinary failure."""


class CorruptKeyFile(KeystoreError):
    """The key file is unreadable, malformed, or was modified after it was written."""


class WeakPassphrase(KeystoreError):
    """A new signing key's passphrase is among the first an attacker would try."""


class PassphraseUnavailable(KeystoreError):
    """No passphrase source: ``JARSHY_PASSPHRASE`` is unset and there is no terminal to ask on."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: ``opslimit`` passes over ``memlimit`` bytes of memory."""

    opslimit: int
    memlimit: int


KDF_PRESETS: dict[str, KdfParams] = {
    "fast": KdfParams(argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN),  # tests only
    "interactive": KdfParams(argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": KdfParams(argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "sensitive": KdfParams(argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE),
}
# A file asking for more than this is refused rather than allowed to exhaust memory or time.
_MAX_OPSLIMIT = 4 * argon2id.OPSLIMIT_SENSITIVE
_MAX_MEMLIMIT = argon2id.MEMLIMIT_SENSITIVE


def kdf_from_env() -> KdfParams:
    """The KDF preset named by ``$JARSHY_KDF`` (default ``moderate``)."""
    preset = os.environ.get(KDF_ENV, "moderate").strip().lower() or "moderate"
    try:
        return KDF_PRESETS[preset]
    except KeyError:
        choices = ", ".join(sorted(KDF_PRESETS))
        raise KeystoreError(f"{KDF_ENV}={preset!r} is not one of: {choices}") from None


@dataclass(frozen=True)
class KeyInfo:
    """The public part of a stored identity, readable without the passphrase."""

    name: str
    public_key: bytes
    key_id: bytes
    fingerprint: str
    created: datetime


@dataclass(frozen=True)
class _KeyFile:
    info: KeyInfo
    kdf: KdfParams
    salt: bytes
    nonce: bytes
    check: bytes
    ciphertext: bytes
    header: dict[str, Any]


def check_identity_name(name: str) -> str:
    """``name`` in NFC if it can name a stored identity, else ``KeystoreError``.

    Besides the rules of ``keys.check_name`` (any script, at most 40 bytes): not empty, no path or
    shell-hostile characters (``/ \\ : * ? " < > |``), no leading dot.
    """
    try:
        name = check_name(name)
    except ValueError as exc:
        raise KeystoreError(f"invalid identity name: {exc}") from None
    if not name:
        raise KeystoreError("an identity needs a name")
    if name.startswith(".") or any(c in _FORBIDDEN_NAME_CHARS for c in name):
        raise KeystoreError(
            f'invalid identity name {name!r}: no leading dot and none of / \\ : * ? " < > |'
        )
    return name


def _derive(passphrase: str, salt: bytes, kdf: KdfParams) -> tuple[bytes, bytes]:
    """(encryption key, passphrase check value) from the passphrase."""
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    master = argon2id.kdf(32, secret, salt, opslimit=kdf.opslimit, memlimit=kdf.memlimit)
    enc_key = hashlib.blake2b(master, digest_size=32, person=_ENC_PERSON).digest()
    check = hashlib.blake2b(master, digest_size=_CHECK_LEN, person=_CHECK_PERSON).digest()
    return enc_key, check


def _associated_data(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _seal(identity: Identity, passphrase: str, kdf: KdfParams, created: datetime) -> bytes:
    salt = secrets.token_bytes(argon2id.SALTBYTES)
    nonce = secrets.token_bytes(nacl.secret.Aead.NONCE_SIZE)
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": identity.name,
        "public_key": identity.public_key.hex(),
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kdf": {
            "algorithm": _KDF_ALGORITHM,
            "opslimit": kdf.opslimit,
            "memlimit": kdf.memlimit,
            "salt": salt.hex(),
        },
    }
    enc_key, check = _derive(passphrase, salt, kdf)
    sealed = nacl.secret.Aead(enc_key).encrypt(identity.seed, _associated_data(header), nonce)
    document = dict(header)
    document["cipher"] = {
        "algorithm": _CIPHER_ALGORITHM,
        "nonce": nonce.hex(),
        "check": check.hex(),
        "ciphertext": sealed.ciphertext.hex(),
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _hex_field(obj: dict[str, Any], key: str, length: int) -> bytes:
    value = bytes.fromhex(obj[key])
    if len(value) != length:
        raise ValueError(f"{key} is {len(value)} bytes, expected {length}")
    return value


def _parse(data: bytes, where: Path) -> _KeyFile:
    try:
        doc = json.loads(data)
        if doc["format"] != FORMAT:
            raise ValueError(f"format is {doc['format']!r}")
        if doc["version"] != FORMAT_VERSION:
            raise ValueError(f"unsupported version {doc['version']!r}; upgrade Jarshy")
        kdf_doc, cipher = doc["kdf"], doc["cipher"]
        if kdf_doc["algorithm"] != _KDF_ALGORITHM or cipher["algorithm"] != _CIPHER_ALGORITHM:
            raise ValueError("unknown algorithm")
        kdf = KdfParams(int(kdf_doc["opslimit"]), int(kdf_doc["memlimit"]))
        if not (
            argon2id.OPSLIMIT_MIN <= kdf.opslimit <= _MAX_OPSLIMIT
            and argon2id.MEMLIMIT_MIN <= kdf.memlimit <= _MAX_MEMLIMIT
        ):
            raise ValueError("KDF parameters out of range")
        public_key = _hex_field(doc, "public_key", PUBLIC_KEY_LEN)
        created = datetime.fromisoformat(doc["created"])
        name = check_identity_name(doc["name"])
        header = {k: doc[k] for k in ("format", "version", "name", "public_key", "created", "kdf")}
        return _KeyFile(
            info=KeyInfo(name, public_key, key_id(public_key), fingerprint(public_key), created),
            kdf=kdf,
            salt=_hex_field(kdf_doc, "salt", argon2id.SALTBYTES),
            nonce=_hex_field(cipher, "nonce", nacl.secret.Aead.NONCE_SIZE),
            check=_hex_field(cipher, "check", _CHECK_LEN),
            ciphertext=_hex_field(cipher, "ciphertext", SEED_LEN + nacl.secret.Aead.MACBYTES),
            header=header,
        )
    except (ValueError, KeyError, TypeError, AttributeError, KeystoreError) as exc:
        raise CorruptKeyFile(f"{where} is not a valid Jarshy key file: {exc}") from None
