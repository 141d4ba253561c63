"""Bundles: signed bulletins and public keys in one file for a USB stick (sneakernet).

Layout: the 14-byte magic ``JARSHY-BUNDLE`` + version byte 1, then records of
``type (1) | length (2, big-endian) | data``.  Type 1 = a bulletin's bytes, type 2 = a 32-byte
public key.  Nothing in a bundle is trusted because of the bundle: every bulletin is verified on
import exactly as if it came from the radio.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from relay.wire.bulletin import MAX_BULLETIN
from relay.wire.errors import WireError

MAGIC = b"JARSHY-BUNDLE\x01"
RECORD_BULLETIN = 1
RECORD_KEY = 2
MAX_RECORDS = 200_000


def write_bundle(bulletins: Iterable[bytes], keys: Iterable[bytes]) -> bytes:
    out = bytearray(MAGIC)
    for kind, items in ((RECORD_KEY, keys), (RECORD_BULLETIN, bulletins)):
        for data in items:
            out += bytes([kind]) + len(data).to_bytes(2, "big") + data
    return bytes(out)


def read_bundle(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (record type, data); raises WireError on a damaged or foreign file."""
    if not data.startswith(MAGIC):
        raise WireError("not-a-bundle", "file is not a Jarshy bundle")
    offset, count = len(MAGIC), 0
    while offset < len(data):
        if offset + 3 > len(data):
            raise WireError("truncated", f"bundle ends inside a record header at byte {offset}")
        kind = data[offset]
        length = int.from_bytes(data[offset + 1 : offset + 3], "big")
        end = offset + 3 + length
        if kind not in (RECORD_BULLETIN, RECORD_KEY) or length > MAX_BULLETIN or end > len(data):
            raise WireError("bad-record", f"damaged record at byte {offset}")
        count += 1
        if count > MAX_RECORDS:
            raise WireError("too-large", f"more than {MAX_RECORDS} records")
        yield kind, data[offset + 3 : end]
        offset = end
