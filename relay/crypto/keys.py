"""Ed25519 identities, signatures, key ids, fingerprints and share strings (pure: no I/O, no clock).

* ``key_id``: 8-byte BLAKE2b of the public key, the compact handle bulletins carry.
* ``fingerprint``: 80-bit BLAKE2b of the public key as ``XXXX-XXXX-XXXX-XXXX`` Crockford base32,
  what two people read to each other to check that they hold the same key.
* share string: ``jarshy:`` + Crockford base32 of ``version | public key | name | CRC-32``, a
  copy-pasteable (or QR) way to hand someone a public key. The checksum catches typos; only the
  fingerprint, compared out of band, says the key is the right one.

The byte layouts are specified in docs/keys.md.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib
from dataclasses import dataclass, field

import nacl.exceptions
import nacl.signing

from relay.crypto import base32

PUBLIC_KEY_LEN = 32
SEED_LEN = 32
SIGNATURE_LEN = 64
KEY_ID_LEN = 8
FINGERPRINT_LEN = 10  # bytes: 80 bits, 16 base32 symbols
MAX_NAME_BYTES = 40

SHARE_PREFIX = "jarshy:"
SHARE_VERSION = 1
_CHECKSUM_LEN = 4
_SHARE_MIN_BYTES = 1 + PUBLIC_KEY_LEN + _CHECKSUM_LEN
_SHARE_MAX_BYTES = _SHARE_MIN_BYTES + MAX_NAME_BYTES
_SHARE_LENGTHS = frozenset(
    base32.encoded_length(n) for n in range(_SHARE_MIN_BYTES, _SHARE_MAX_BYTES + 1)
)

_KEY_ID_PERSON = b"jarshy-key-v1"
_FINGERPRINT_PERSON = b"jarshy-fpr-v1"


def key_id(public_key: bytes) -> bytes:
    """The 8-byte id of ``public_key``: BLAKE2b-64 personalised with ``jarshy-key-v1``."""
    return hashlib.blake2b(public_key, digest_size=KEY_ID_LEN, person=_KEY_ID_PERSON).digest()


def fingerprint(public_key: bytes) -> str:
    """The human-checkable fingerprint of ``public_key``: ``XXXX-XXXX-XXXX-XXXX``.

    BLAKE2b-80 (personalised with ``jarshy-fpr-v1``) in Crockford base32, upper case, in four
    groups of four. 80 bits: forging a key with a given fingerprint costs about 2**80 hashes.
    """
    digest = hashlib.blake2b(
        public_key, digest_size=FINGERPRINT_LEN, person=_FINGERPRINT_PERSON
    ).digest()
    text = base32.encode(digest)
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def check_name(name: str) -> str:
    """Return ``name`` in NFC if it is a valid identity name, else raise ``ValueError``.

    Names are what a share string carries: at most 40 bytes of UTF-8 (any script), no control or
    format characters, no leading or trailing whitespace. May be empty only in share strings.
    """
    if not isinstance(name, str):
        raise ValueError("a name must be text")
    name = unicodedata.normalize("NFC", name)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ValueError(f"name is longer than {MAX_NAME_BYTES} bytes of UTF-8")
    if name != name.strip():
        raise ValueError("name starts or ends with whitespace")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise ValueError("name contains control or invisible characters")
    return name


@dataclass(frozen=True)
class Identity:
    """A named Ed25519 signing key. ``seed`` is the secret: it never appears in ``repr``."""

    name: str
    seed: bytes = field(repr=False)
    _signing_key: nacl.signing.SigningKey = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != SEED_LEN:
            raise ValueError(f"an Ed25519 seed is {SEED_LEN} bytes")
        object.__setattr__(self, "_signing_key", nacl.signing.SigningKey(self.seed))

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return bytes(self._signing_key.verify_key)

    @property
    def key_id(self) -> bytes:
        """``key_id(self.public_key)``."""
        return key_id(self.public_key)

    @property
    def fingerprint(self) -> str:
        """``fingerprint(self.public_key)``."""
        return fingerprint(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte detached Ed25519 signature of ``message``."""
        return bytes(self._signing_key.sign(message).signature)


def generate_identity(name: str) -> Identity:
    """A fresh identity with a random key (from the OS CSPRNG via libsodium)."""
    name = check_name(name)
    if not name:
        raise ValueError("an identity needs a name")
    return Identity(name, bytes(nacl.signing.SigningKey.generate()))


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True iff ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    Never raises: wrong types, wrong lengths, invalid or small-order points all give False.
    """
    if not (
        isinstance(public_key, bytes)
        and isinstance(message, bytes)
        and isinstance(signature, bytes)
        and len(public_key) == PUBLIC_KEY_LEN
        and len(signature) == SIGNATURE_LEN
    ):
        return False
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return False
    return True


class ShareError(ValueError):
    """A share string that cannot be accepted; ``code`` is a stable reason, the message for humans.

    Codes: ``bad-prefix``, ``bad-character``, ``bad-length``, ``bad-padding``, ``bad-checksum``,
    ``bad-version``, ``bad-name``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.args[0]}"


@dataclass(frozen=True)
class SharedKey:
    """What a share string carries: a public key, the name its owner chose, and its fingerprint."""

    public_key: bytes
    name: str
    fingerprint: str


def _share_checksum(body: bytes) -> bytes:
    return zlib.crc32(body).to_bytes(_CHECKSUM_LEN, "little")


def encode_share(public_key: bytes, name: str = "") -> str:
    """The share string of ``public_key`` (with an optional ``name``, at most 40 bytes UTF-8)."""
    if not isinstance(public_key, bytes) or len(public_key) != PUBLIC_KEY_LEN:
        raise ValueError(f"a public key is {PUBLIC_KEY_LEN} bytes")
    body = bytes([SHARE_VERSION]) + public_key + check_name(name).encode("utf-8")
    return SHARE_PREFIX + base32.encode(body + _share_checksum(body))


def decode_share(text: str) -> SharedKey:
    """Parse a share string; raise ``ShareError`` saying what is wrong with it.

    Tolerates surrounding whitespace, any letter case, and spaces, dashes or line breaks inside.
    Every single-symbol typo and every swap of two neighbouring symbols is detected (CRC-32).
    """
    stripped = text.strip()
    if stripped[: len(SHARE_PREFIX)].lower() != SHARE_PREFIX:
        raise ShareError("bad-prefix", f"a share string starts with {SHARE_PREFIX!r}")
    symbols = base32.normalize(stripped[len(SHARE_PREFIX) :])
    if len(symbols) not in _SHARE_LENGTHS:
        raise ShareError(
            "bad-length",
            f"{len(symbols)} characters after the prefix: too short or too long (cut off?)",
        )
    try:
        raw = base32.decode(symbols)
    except base32.Base32Error as exc:
        if exc.code == "bad-padding":
            message = "the last character cannot end a share string (typo, or cut off?)"
        else:
            message = f"{exc} (typo?)"
        raise ShareError(exc.code, message) from None
    body, checksum = raw[:-_CHECKSUM_LEN], raw[-_CHECKSUM_LEN:]
    if _share_checksum(body) != checksum:
        raise ShareError("bad-checksum", "checksum does not match: there is a typo somewhere")
    if body[0] != SHARE_VERSION:
        raise ShareError(
            "bad-version", f"share string version {body[0]} is not supported by this Jarshy"
        )
    public_key = body[1 : 1 + PUBLIC_KEY_LEN]
    try:
        name = body[1 + PUBLIC_KEY_LEN :].decode("utf-8")
        if check_name(name) != name:
            raise ValueError("name is not in canonical form")
    except ValueError as exc:
        raise ShareError("bad-name", f"the name in the share string is invalid: {exc}") from None
    return SharedKey(public_key, name, fingerprint(public_key))
