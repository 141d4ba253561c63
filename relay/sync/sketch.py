"""Set-difference sketches (invertible Bloom lookup tables) of 4-byte id prefixes.

A node that lacks a few bulletins scattered among thousands cannot find them by walking summary
pages (24 ids each); it sends a sketch of what it holds instead, split into ``parts`` frames
(a prefix belongs to part ``H(prefix) mod parts``), each a table of ``CELLS`` cells (placed by
hashes salted with the part, the parts and the sender's count).  The
neighbour subtracts its own table of the same part and peels the difference: the prefixes it
holds that we lack, and those we hold that it lacks.  A part decodes when it holds up to about
a dozen differences (more peel partly: the rest waits for the next round).  See docs/protocol.md §9.
"""

from __future__ import annotations

from hashlib import blake2b

CELLS = 30  # cells per part: 14 + 7 * 30 = 224 bytes
HASHES = 3  # cells per prefix, one in each third of the table
PER_PART = 20  # differences per part: most peel whole up to a dozen; beyond that a part often
# peels only partly and the rest waits for the next round, which still costs fewer bytes than
# more parts (bench/catchup.py, 50 random of 10,000, seeds 1-6: 8 -> 1,728 B mean, 20 -> 1,065 B)
MAX_PARTS = 8

Cell = tuple[int, int, int]  # count (mod 256), XOR of prefixes, XOR of their checks


def _hash(tag: bytes, prefix: bytes, size: int) -> int:
    return int.from_bytes(blake2b(prefix, digest_size=size, person=b"jarshy-sk" + tag).digest())


def part_of(prefix: bytes, parts: int) -> int:
    return _hash(b"part", prefix, 4) % parts


def _cells_of(prefix: bytes, salt: bytes) -> list[int]:
    third = CELLS // HASHES
    return [i * third + _hash(bytes([i]) + salt, prefix, 4) % third for i in range(HASHES)]


def salt(part: int, parts: int, count: int) -> bytes:
    """Cells move with the part, the number of parts and the sender's count, so two prefixes
    that shared all their cells in one round (the usual way a small table fails) do not share
    them again in the next."""
    return bytes([part, parts]) + (count & 0xFFFF).to_bytes(2, "big")


def table(prefixes: list[bytes], part: int, parts: int, count: int) -> list[Cell]:
    """The sketch of the prefixes that fall in ``part`` of ``parts`` (``count``: the sender's
    held bulletins, as in the frame)."""
    mix = salt(part, parts, count)
    counts = [0] * CELLS
    keys = [0] * CELLS
    checks = [0] * CELLS
    for prefix in prefixes:
        if part_of(prefix, parts) != part:
            continue
        key, check = int.from_bytes(prefix), _hash(b"check", prefix, 2)
        for i in _cells_of(prefix, mix):
            counts[i] = (counts[i] + 1) & 0xFF
            keys[i] ^= key
            checks[i] ^= check
    return list(zip(counts, keys, checks, strict=True))


def difference(
    mine: list[Cell], theirs: list[Cell], mix: bytes
) -> tuple[set[bytes], set[bytes], bool]:
    """(prefixes only we hold, prefixes only they hold, complete): what peels off the
    difference of two tables; ``complete`` False when some of it did not (too many)."""
    cells = [
        [(a[0] - b[0]) & 0xFF, a[1] ^ b[1], a[2] ^ b[2]] for a, b in zip(mine, theirs, strict=True)
    ]
    ours: set[bytes] = set()
    their: set[bytes] = set()
    progress = True
    while progress:
        progress = False
        for cell in cells:
            if cell[0] not in (1, 0xFF):
                continue
            prefix = cell[1].to_bytes(4, "big")
            if cell[2] != _hash(b"check", prefix, 2):
                continue
            sign = 1 if cell[0] == 1 else -1
            (ours if sign == 1 else their).add(prefix)
            key, check = cell[1], cell[2]
            for i in _cells_of(prefix, mix):
                cells[i][0] = (cells[i][0] - sign) & 0xFF
                cells[i][1] ^= key
                cells[i][2] ^= check
            progress = True
    return ours, their, not any(c[0] or c[1] or c[2] for c in cells)


def parts_for(differences: int) -> int:
    """How many parts to send for about ``differences`` missing ids."""
    return max(1, min(MAX_PARTS, -(-differences // PER_PART)))
