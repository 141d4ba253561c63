"""The spam brake: radios that originate forgeries or floods of untrusted bulletins get ignored."""

from __future__ import annotations

from relay.node.sim_node import JarshySimNode
from relay.sim import run_scenario, scenario_from_dict
from relay.sync.engine import SyncConfig
from relay.sync.events import PacketReceived
from relay.sync.judge import MemoryJudge
from relay.sync.quarantine import PROTECTED_FOR, Quarantine
from relay.trust import TrustState
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.helpers import T0, news, safety
from tests.sync.judging import JudgingEngine

ROOT = make_identity("newsroom")
MALLORY = make_identity("mallory")
SPAMMER_RADIO, NEWSROOM_RADIO, OWN = 0x5BAD, 0x600D, 0x1


def brake() -> Quarantine:
    return Quarantine(
        forged_limit=3, untrusted_limit=5, window=600.0, duration=3600.0, own_node=OWN
    )


def forged(i: int) -> bytes:
    unsigned = wire.encode_unsigned(Content(Kind.NEWS, ROOT.key_id, T0 + i, f"fake {i}", "en"))
    return unsigned + MALLORY.sign(wire.SIGNING_DOMAIN + unsigned)


def test_three_forgeries_in_the_window_quarantine_the_radio_once() -> None:
    q = brake()
    for t in (0.0, 100.0):
        q.forged(SPAMMER_RADIO, t)
    assert q.requests == []
    q.forged(SPAMMER_RADIO, 200.0)
    assert q.requests == [(SPAMMER_RADIO, 3600.0)]
    assert q.ignored(SPAMMER_RADIO, 3000.0) and not q.ignored(SPAMMER_RADIO, 3801.0)
    q.forged(SPAMMER_RADIO, 300.0)
    assert len(q.requests) == 1  # already quarantined: no second request


def test_forgeries_spread_beyond_the_window_do_not_add_up() -> None:
    q = brake()
    for t in (0.0, 700.0, 1400.0, 2100.0):
        q.forged(SPAMMER_RADIO, t)
    assert q.requests == []


def test_a_radio_that_brought_trusted_news_cannot_be_framed() -> None:
    q = brake()
    q.trusted(NEWSROOM_RADIO, 0.0)
    for t in range(10):
        q.forged(NEWSROOM_RADIO, 10.0 + t)  # a forger spoofing the newsroom's node number
    assert q.requests == []
    for t in range(3):
        q.forged(NEWSROOM_RADIO, PROTECTED_FOR + 100.0 + t)
    assert q.requests == [(NEWSROOM_RADIO, 3600.0)]  # protection lasts a day


def test_own_radio_is_never_quarantined_and_untrusted_needs_more() -> None:
    q = brake()
    for t in range(10):
        q.forged(OWN, float(t))
    for t in range(4):
        q.untrusted(SPAMMER_RADIO, float(t))
    assert q.requests == []
    q.untrusted(SPAMMER_RADIO, 5.0)
    assert q.requests == [(SPAMMER_RADIO, 3600.0)]


def test_engine_asks_to_ignore_a_forging_radio_not_an_honest_one() -> None:
    state = TrustState()
    state.add_root(ROOT.key_id, ROOT.public_key, "root")
    engine = JudgingEngine(MemoryJudge(state), SyncConfig(), node=OWN)
    now = float(T0)
    engine.hear(PacketReceived(news(ROOT).raw, NEWSROOM_RADIO, hops=0, snr=-10.0), now)
    engine.hear(PacketReceived(safety(ROOT).raw, NEWSROOM_RADIO, hops=1, snr=-10.0), now)
    for i in range(3):
        engine.hear(PacketReceived(forged(i), SPAMMER_RADIO, hops=2, snr=-10.0), now + i)
    engine.hear(PacketReceived(b"\x10garbage", NEWSROOM_RADIO, hops=0, snr=0.0), now + 5)
    assert engine.drain_ignores() == [(SPAMMER_RADIO, 3600.0)]
    assert engine.drain_ignores() == []
    assert engine.stats.quarantined == 1


SPAM_TOWN = {
    "name": "spam-town",
    "duration": 900,
    "drain": 60,
    "nodes": [
        {"generator": "grid", "rows": 4, "cols": 4, "spacing": 500, "prefix": "t"},
        {"name": "spam", "x": 750, "y": 750},
    ],
    "traffic": [{"from": "spam", "every": 10, "start": 60, "size": 200, "hop_limit": 7}],
}


def test_quarantine_stops_jarshy_radios_from_flooding_spam() -> None:
    def without(ctx: object) -> JarshySimNode:
        return JarshySimNode(ctx, SyncConfig(quarantine_forged=0))  # type: ignore[arg-type]

    scenario = scenario_from_dict(SPAM_TOWN, source="spam-town")
    _, braked = run_scenario(scenario, engine="jarshy")
    _, open_ = run_scenario(scenario, engine=without)
    assert braked.summary["losses"]["ignored_drops"] > 0
    assert open_.summary["losses"]["ignored_drops"] == 0
    relays_braked = braked.summary["transmissions"]["relays"]
    relays_open = open_.summary["transmissions"]["relays"]
    assert relays_braked < relays_open / 2  # the radios stop relaying the spammer
