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
        split(bytes(216 * MAX_FRAGMENTS + 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=240), max_size=30))
def test_garbage_fragments_never_crash(packets: list[bytes]) -> None:
    reassembler = Reassembler(max_pending=8, max_bytes=8000)
    for packet in packets:
        with contextlib.suppress(WireError):
            reassembler.add(bytes([0x18]) + packet, 0.0)
    assert reassembler.pending_bytes <= 8000


def test_sets_are_kept_apart_by_source_and_count() -> None:
    raw = long_bulletin(200)
    packets = split(raw)
    fake_count = packets[0][:9] + bytes([packets[0][9] + 1, 0]) + packets[0][11:]
    fake_data = packets[1][:20] + bytes(len(packets[1]) - 20)
    reassembler = Reassembler()
    assert reassembler.add(fake_count, 0.0, source=66) is None  # never raises at anyone
    assert reassembler.add(fake_data, 0.0, source=66) is None
    out = [reassembler.add(p, 1.0, source=7) for p in packets]
    assert out.count(raw) == 1


def test_a_completed_set_reports_its_source_and_whether_it_was_clean() -> None:
    raw = long_bulletin(200)
    packets = split(raw, repair=False)
    reassembler = Reassembler()
    bad = bytearray(packets[0])
    bad[-1] ^= 1
    reassembler.add_fragment(parse(bytes(bad)), 0.0, source=3)
    results = [reassembler.add_fragment(parse(p), 1.0, source=3) for p in packets]
    done = [r for r in results if r is not None]
    assert len(done) == 1 and done[0].raw == raw and done[0].source == 3
    assert not done[0].clean  # index 0 came with two contents: the later one won


def test_one_source_cannot_hold_more_than_its_quota() -> None:
    reassembler = Reassembler(max_per_source=2, max_source_bytes=1000)
    for seed in range(10):
        reassembler.add(split(long_bulletin(150, seed))[0], float(seed), source=9)
    assert len(reassembler._pending) <= 2 and reassembler.pending_bytes <= 1000


def test_a_flood_of_new_sets_does_not_evict_a_set_in_progress() -> None:
    raw = long_bulletin(300)
    packets = split(raw)
    reassembler = Reassembler(max_pending=8)
    reassembler.add(packets[0], 0.0, source=1)
    reassembler.add(packets[1], 1.0, source=1)
    rng = random.Random(3)
    for n in range(500):  # one fragment each, from ever new radios, each more recent
        junk = bytes([0x18]) + rng.randbytes(8) + bytes([2, 0]) + rng.randbytes(200)
        reassembler.add(junk, 2.0 + n, source=1000 + n)
    assert len(reassembler._pending) <= 8
    out = [reassembler.add(p, 600.0, source=1) for p in packets[2:]]
    assert raw in out


def test_a_favoured_set_outlasts_bigger_unfavoured_ones() -> None:
    raw = long_bulletin(300)
    packets = split(raw)
    reassembler = Reassembler(max_pending=4)
    reassembler.add(packets[0], 0.0, source=1, favoured=True)
    for seed in range(20):  # unfavoured sets of two fragments each
        other = split(long_bulletin(300, seed + 10))
        for packet in other[:2]:
            reassembler.add(packet, 1.0 + seed, source=100 + seed)
    assert reassembler.favoured(parse(packets[0]).bulletin, parse(packets[0]).count, 1)
    out = [reassembler.add(p, 100.0, source=1) for p in packets[1:]]
    assert raw in out
    assert reassembler.peak_bytes <= reassembler.max_bytes


def test_a_data_fragment_longer_than_the_repair_chunk_is_refused_quietly() -> None:
    """Fuzz finding (bench/fuzz.py, fragments seed 1 index 32): used to raise IndexError."""
    head = bytes([0x18]) + b"\x11" * 8 + bytes([2])
    reassembler = Reassembler()
    for packet in (
        head + bytes([0]) + b"a" * 200,
        head + bytes([2]) + (4).to_bytes(2, "big") + b"xy",
    ):
        with contextlib.suppress(WireError):  # parse may refuse it; nothing else may be raised
            assert reassembler.add(packet, 0.0) is None


def cut(raw: bytes, count: int) -> list[bytes]:
    """Data fragments of ``raw`` cut into ``count`` equal slices, as a careless sender might."""
    from relay.wire.bulletin import bulletin_id
    from relay.wire.fragments import FRAGMENT_BYTE

    chunk = -(-len(raw) // count)
    head = bytes([FRAGMENT_BYTE]) + bulletin_id(raw[:-64]) + bytes([count])
    return [head + bytes([i]) + raw[i * chunk : (i + 1) * chunk] for i in range(count)]


def test_a_bulletin_that_fits_one_packet_is_never_reassembled() -> None:
    """docs/protocol.md §5 rule 5: a short bulletin cut in two is one spelling too many."""
    raw = news(ALICE, "Свет дали.").raw
    assert len(raw) <= PACKET_MAX
    reassembler = Reassembler()
    assert [reassembler.add(p, 0.0) for p in cut(raw, 2)] == [None, None]


def test_a_long_bulletin_in_more_fragments_than_needed_is_refused() -> None:
    """§5 rule 5: k must be ceil(L / 216); another cut is another spelling of the same bytes."""
    raw = long_bulletin(80, seed=9)
    k = len(split(raw)) - 1
    assert k + 1 <= MAX_FRAGMENTS
    reassembler = Reassembler()
    assert all(reassembler.add(p, 0.0) is None for p in cut(raw, k + 1))
    honest = Reassembler()
    assert [r for r in (honest.add(p, 0.0) for p in split(raw)) if r] == [raw]


def test_slices_of_the_wrong_length_are_refused() -> None:
    """§5 rule 6: every slice but the last holds exactly c bytes."""
    raw = long_bulletin(80, seed=10)
    packets = split(raw, repair=False)
    first, second = packets[0], packets[1]
    moved = first[:-1], second[:11] + first[-1:] + second[11:]  # one byte moved across the cut
    reassembler = Reassembler()
    assert all(reassembler.add(p, 0.0) is None for p in (*moved, *packets[2:]))


def test_a_repair_with_junk_past_the_last_slice_is_refused() -> None:
    """§5 rule 6: rebuilding the last slice, the XOR bytes past its length must be zero."""
    from relay.wire.fragments import slice_length

    raw = long_bulletin(70, seed=11)
    packets = split(raw)
    chunk, count = slice_length(len(raw)), len(packets) - 1
    last = len(raw) - (count - 1) * chunk
    assert last < chunk  # there is padding to tamper with
    repair = bytearray(packets[-1])
    repair[-1] ^= 0x01  # inside the padding of the last slice
    reassembler = Reassembler()
    results = [reassembler.add(p, 0.0) for p in (*packets[: count - 1], bytes(repair))]
    assert results[-1] is None
    honest = Reassembler()
    assert [honest.add(p, 0.0) for p in (*packets[: count - 1], packets[-1])][-1] == raw
