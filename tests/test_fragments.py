"""Fragments: split, reassemble, repair one loss, and bounded memory against garbage."""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.wire.bulletin import PACKET_MAX
from relay.wire.errors import WireError
from relay.wire.fragments import MAX_FRAGMENTS, Reassembler, parse, split
from tests.conftest import make_identity
from tests.helpers import news

ALICE = make_identity("alice")


def long_bulletin(words: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    text = " ".join(str(rng.randrange(10**6)) for _ in range(words))
    return news(ALICE, text).raw


@settings(max_examples=30, deadline=None)
@given(st.integers(40, 450), st.randoms(use_true_random=False))
def test_any_order_reassembles(words: int, rng: random.Random) -> None:
    raw = long_bulletin(words, seed=words)
    packets = split(raw)
    assert all(len(p) <= PACKET_MAX for p in packets)
    if len(packets) == 1:
        assert packets == [raw]
        return
    rng.shuffle(packets)
    reassembler = Reassembler()
    results = [reassembler.add(p, 0.0) for p in packets]
    assert [r for r in results if r is not None] == [raw]


@pytest.mark.parametrize("lost", [0, 1, 2, 3])
def test_repair_fragment_rebuilds_any_single_loss(lost: int) -> None:
    raw = long_bulletin(200)
    packets = split(raw)
    count = packets[0][9]
    assert count >= 4 and len(packets) == count + 1
    reassembler = Reassembler()
    out = [reassembler.add(p, 0.0) for i, p in enumerate(packets) if i != lost]
    assert raw in out


def test_two_losses_need_more() -> None:
    raw = long_bulletin(200)
    packets = split(raw)
    reassembler = Reassembler()
    out = [reassembler.add(p, 0.0) for p in packets[2:]]
    assert all(r is None for r in out)
    assert reassembler.missing(parse(packets[0]).bulletin) == [0, 1]


def test_forged_fragment_cannot_complete_another_bulletin() -> None:
    raw = long_bulletin(120)
    packets = split(raw, repair=False)
    forged = bytearray(packets[0])
    forged[20] ^= 0xFF  # inside the signed bytes, so the id no longer matches
    reassembler = Reassembler()
    out = [reassembler.add(p, 0.0) for p in [bytes(forged), *packets[1:]]]
    assert all(r is None for r in out) and reassembler.dropped == 1


def test_memory_and_count_are_bounded() -> None:
    reassembler = Reassembler(max_pending=4, max_bytes=2000)
    for seed in range(20):
        first = split(long_bulletin(150, seed))[0]
        reassembler.add(first, float(seed))
        assert len(reassembler._pending) <= 4 and reassembler.pending_bytes <= 2000
    reassembler.expire(10_000.0)
    assert reassembler.pending_bytes == 0


def test_too_long_bulletin_refused() -> None:
    with pytest.raises(ValueError):
        split(bytes(218 * MAX_FRAGMENTS + 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=240), max_size=30))
def test_garbage_fragments_never_crash(packets: list[bytes]) -> None:
    reassembler = Reassembler(max_pending=8, max_bytes=8000)
    for packet in packets:
        with contextlib.suppress(WireError):
            reassembler.add(bytes([0x18]) + packet, 0.0)
    assert reassembler.pending_bytes <= 8000
