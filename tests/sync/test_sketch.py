"""Set-difference sketches: the frame, the table, and a node finding scattered gaps with them."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.sync import frames, sketch
from relay.sync.events import PacketReceived
from relay.wire.errors import WireError
from tests.conftest import make_identity
from tests.helpers import T0, news
from tests.sync.harness import Net, chain

ROOT = make_identity("newsroom")


def prefixes(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(4) for _ in range(n)]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 8))
def test_a_part_peels_a_few_differences_both_ways(seed: int, missing: int) -> None:
    held = prefixes(500, seed)
    theirs = held[missing:] + prefixes(1, seed + 1)  # they lack `missing`, hold one we lack
    mix = sketch.salt(0, 1, len(theirs))
    ours, their, complete = sketch.difference(
        sketch.table(held, 0, 1, len(theirs)), sketch.table(theirs, 0, 1, len(theirs)), mix
    )
    assert ours <= set(held[:missing]) and their <= set(theirs[-1:])  # never a wrong id
    if complete:
        assert ours == set(held[:missing]) and their == set(theirs[-1:])


def test_most_parts_peel_whole_and_a_failed_one_peels_again_with_a_new_salt() -> None:
    whole = 0
    for seed in range(40):
        held = prefixes(2000, seed)
        theirs = held[12:]  # a dozen differences in one part
        for count in (len(theirs), len(theirs) + 1):  # the next round: another salt
            mix = sketch.salt(0, 1, count)
            _, _, complete = sketch.difference(
                sketch.table(held, 0, 1, count), sketch.table(theirs, 0, 1, count), mix
            )
            if complete:
                whole += 1
                break
    assert whole == 40


def test_sketch_frame_round_trip_and_malformed() -> None:
    cells = tuple(sketch.table(prefixes(50, 1), 2, 3, 50))
    frame = frames.Sketch(0xA1B2C3D4, 50, 2, 3, cells)
    data = frame.encode()
    assert len(data) == 10 + 7 * sketch.CELLS <= 229
    assert frames.parse(data) == frame
    with pytest.raises(WireError):
        frames.parse(data[:-1])
    with pytest.raises(WireError):
        frames.parse(data[:7] + bytes([3, 3]) + data[9:])  # part >= parts


def test_a_node_missing_scattered_bulletins_finds_them_with_sketches() -> None:
    net = Net(chain(2), ROOT, airtime=1.5)
    items = [news(ROOT, f"bulletin {i}", created=T0 + i) for i in range(600)]
    rng = random.Random(5)
    gone = {b.id for b in rng.sample(items[:-30], 20)}  # none of the newest page
    a, b = net.engines[0], net.engines[1]
    for item in items:
        for engine in (a, b):
            if engine is a or item.id not in gone:
                judgement = engine.judge(item.raw, T0 + 700.0, None)
                assert judgement is not None
                engine.add(item.raw, judgement, 0.0)
    net.now = 1000.0
    net.run(until=1600.0)
    assert all(b.holds(i) for i in gone)
    assert b.stats.sent["sketch"] >= 1  # found by a sketch, not by walking 25 pages
    assert net.sent["sync1a"] <= 6  # summaries


def test_a_sketch_for_another_node_is_not_answered() -> None:
    net = Net(chain(2), ROOT)
    a = net.engines[0]
    item = news(ROOT, created=T0)
    judgement = a.judge(item.raw, T0 + 10.0, None)
    assert judgement is not None
    a.add(item.raw, judgement, 0.0)
    empty = tuple(sketch.table([], 0, 1, 0))
    for responder in (99, 0):
        frame = frames.Sketch(responder, 0, 0, 1, empty).encode()
        a.receive(PacketReceived(frame, 1, hops=0, snr=-10.0, hop_limit=0), 100.0)
        pushed = ("push", item.id) in a.outbox
        assert pushed == (responder == a.node)
