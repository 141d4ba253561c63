"""A text's limits in the units a person thinks in: characters, radio packets, seconds on air.

The wire counts bytes after compression, which nobody can count while typing; these functions
sign a draft with a throwaway key to learn its exact size, and say how many characters of *this*
text fit one packet (the codec packs Cyrillic, Latin and digits differently, so the answer depends
on the text).  Pure: the caller supplies the draft and the time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from relay.compose import Draft, build
from relay.crypto.keys import Identity, generate_identity
from relay.lora import DEFAULT_PRESET, Preset, packet_airtime
from relay.wire import bulletin as wire
from relay.wire.fragments import split


@dataclass(frozen=True, slots=True)
class Measure:
    """How big a signed draft is on air."""

    characters: int
    bytes: int
    packets: int
    airtime_s: float  # all its packets, on the preset measured


@functools.cache
def _scratch() -> Identity:
    return generate_identity("size")


def measure(draft: Draft, created: int, preset: Preset = DEFAULT_PRESET) -> Measure:
    """Sign ``draft`` with a throwaway key and count its bytes, packets and airtime.

    Raises relay.compose.DraftError for a draft that cannot become a bulletin.
    """
    key = _scratch()
    signed = wire.sign(build(draft, key.key_id, created), key)
    packets = split(signed.raw)
    seconds = sum(packet_airtime(len(p), preset) for p in packets)
    return Measure(len(draft.text), len(signed.raw), len(packets), seconds)


def one_packet_characters(draft: Draft, created: int) -> int:
    """How many characters from the start of this draft's text fit one packet (binary search
    over its prefixes: about ten signatures).  The whole length when it fits already."""
    text = draft.text
    if measure(draft, created).packets <= 1:
        return len(text)
    low, high = 0, len(text)  # low fits (the empty text does), high does not
    while high - low > 1:
        middle = (low + high) // 2
        if measure(replace(draft, text=text[:middle]), created).packets <= 1:
            low = middle
        else:
            high = middle
    return low
