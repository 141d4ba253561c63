"""The newsroom keys a relay is told to trust: ``--trust SHARE`` and trust files.

A **trust file** is what a newsroom (or a network's coordinator) publishes so that relays forward
its bulletins: UTF-8 text, one share string (as ``jarshy keys share`` prints it) per line, after a
first line ``jarshy-trust 1``; blank lines and lines starting with ``#`` are ignored::

    jarshy-trust 1
    # Almaty desk and its field editor. Check both fingerprints with us by voice.
    jarshy:AB3F...
    jarshy:QX7M...

The file is **not signed**: whoever can change it on its way to a relay can swap a key, so every
fingerprint it holds must be checked with the newsroom out of band (in person, by voice), as for
``jarshy trust add``; provisioning prints each one for that. The parser treats the file as
hostile: at most :data:`MAX_FILE_BYTES`, :data:`MAX_KEYS` keys and :data:`MAX_LINE` characters a
line, every share string checked (CRC-32), all or nothing: one bad line refuses the whole file
with its line number, before anything is written to a radio or a store. Pure; reading the file is
:func:`read_trust_file`'s only I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from relay.crypto.keys import SharedKey, ShareError, decode_share
from relay.errors import UserError
from relay.inert import inert_line

HEADER = "jarshy-trust 1"
MAX_FILE_BYTES = 64 * 1024
MAX_KEYS = 64
MAX_LINE = 400


class TrustFileError(UserError):
    """A trust file or a ``--trust`` value that cannot be used; nothing was trusted."""


@dataclass(frozen=True)
class TrustedKey:
    """A key to trust as a root, with where it came from (for messages)."""

    key: SharedKey
    source: str

    @property
    def name(self) -> str:
        return self.key.name or self.key.fingerprint


def parse_share(text: str, source: str = "--trust") -> TrustedKey:
    """One share string given on the command line."""
    if len(text) > MAX_LINE:
        raise TrustFileError(f"{source}: {len(text)} characters is not a share string")
    try:
        return TrustedKey(decode_share(text), source)
    except ShareError as exc:
        raise TrustFileError(
            f"{source}: not a share string ({exc}); copy it again from `jarshy keys share`"
        ) from None


def parse_trust_file(data: bytes, source: str) -> list[TrustedKey]:
    """The keys in a trust file's bytes; ``TrustFileError`` naming the line on any fault."""
    if len(data) > MAX_FILE_BYTES:
        raise TrustFileError(f"{source}: more than {MAX_FILE_BYTES} bytes: not a trust file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TrustFileError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    keys: list[TrustedKey] = []
    seen: set[bytes] = set()
    header = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        where = f"{source} line {number}"
        if len(line) > MAX_LINE:
            raise TrustFileError(f"{where}: {len(line)} characters is too long for a share string")
        if not header:
            if line != HEADER:
                raise TrustFileError(
                    f"{where}: a trust file starts with {HEADER!r}, not {inert_line(line, 40)}"
                )
            header = True
            continue
        trusted = parse_share(line, where)
        if trusted.key.public_key in seen:
            continue
        if len(keys) == MAX_KEYS:
            raise TrustFileError(f"{source}: more than {MAX_KEYS} keys: not a trust file")
        seen.add(trusted.key.public_key)
        keys.append(trusted)
    if not header:
        raise TrustFileError(f"{source}: empty; a trust file starts with {HEADER!r}")
    return keys


def read_trust_file(path: Path) -> list[TrustedKey]:
    """Read and parse a trust file (a regular file, at most :data:`MAX_FILE_BYTES`)."""
    try:
        if not path.is_file():
            what = "no such file" if not path.exists() else "not a regular file"
            raise TrustFileError(f"{path}: {what}")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TrustFileError(f"{path}: cannot read it ({exc.strerror})") from None
    return parse_trust_file(data, str(path))


def write_trust_file(keys: list[SharedKey], comment: str = "") -> str:
    """A trust file's text for ``keys`` (what a newsroom publishes)."""
    from relay.crypto.keys import encode_share

    lines = [HEADER, "# Check every fingerprint with the newsroom out of band before trusting."]
    lines += [f"# {part}" for part in comment.splitlines() if part.strip()]
    for key in keys:
        lines.append(f"# {key.name or 'unnamed'}: {key.fingerprint}")
        lines.append(encode_share(key.public_key, key.name))
    return "\n".join(lines) + "\n"


def merged(*groups: list[TrustedKey]) -> list[TrustedKey]:
    """The keys of all groups, each public key once (the first source named)."""
    out: list[TrustedKey] = []
    seen: set[bytes] = set()
    for group in groups:
        for trusted in group:
            if trusted.key.public_key not in seen:
                seen.add(trusted.key.public_key)
                out.append(trusted)
    return out
