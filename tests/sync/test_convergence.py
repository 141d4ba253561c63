"""Properties of the sync engine: two engines on a lossy link converge; runs are deterministic."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from relay.sim import run_scenario, scenario_from_dict
from relay.sync.events import SendPacket
from tests.conftest import make_identity
from tests.helpers import T0, news
from tests.sync.harness import Net

ROOT = make_identity("newsroom")
MALLORY = make_identity("mallory")
PATIENCE = 400_000.0  # simulated seconds to wait for agreement: at 50 % loss every beacon,
# summary, request and answer is a coin toss, and one repair can take hours (Imax is 600 s)


class TwoEnginesOverALossyLink(RuleBasedStateMachine):
    """Publish on either side (trusted or not), lose packets, let time pass; once left alone long
    enough, both hold exactly the trusted bulletins anyone published."""

    @initialize(loss=st.sampled_from([0.0, 0.1, 0.3, 0.5]), seed=st.integers(0, 2**16))
    def start(self, loss: float, seed: int) -> None:
        self.net = Net({0: {1}, 1: {0}}, ROOT, loss=loss, seed=seed)
        self.trusted: set[bytes] = set()
        self.count = 0

    @rule(node=st.sampled_from([0, 1]), trusted=st.booleans())
    def publish(self, node: int, trusted: bool) -> None:
        self.count += 1
        bulletin = news(ROOT if trusted else MALLORY, f"bulletin {self.count}", T0 + self.count)
        engine = self.net.engines[node]
        judgement = engine.judge(bulletin.raw, self.net.now, None)
        assert judgement is not None
        if trusted:
            self.trusted.add(bulletin.id)
            self.net.transmit(node, engine.publish(bulletin.raw, judgement, self.net.now))
        else:  # an untrusted author's radio next to ours: heard, never relayed
            self.net.transmit(node, [SendPacket(bulletin.raw, 0)])

    @rule(seconds=st.floats(1.0, 900.0))
    def wait(self, seconds: float) -> None:
        self.net.run(until=self.net.now + seconds)

    @rule(node=st.sampled_from([0, 1]), off=st.booleans())
    def power(self, node: int, off: bool) -> None:
        self.net.awake[node] = not off

    @invariant()
    def only_trusted_bulletins_are_held(self) -> None:
        for engine in self.net.engines.values():
            assert set(engine.items) <= self.trusted

    def teardown(self) -> None:
        self.net.awake = dict.fromkeys(self.net.awake, True)
        deadline = self.net.now + PATIENCE
        while self.net.now < deadline:
            self.net.run(until=self.net.now + 2000.0)
            held = [set(e.items) for e in self.net.engines.values()]
            if held[0] == held[1] == self.trusted:
                return
        raise AssertionError(f"no agreement after {PATIENCE:.0f} s: {held}")


TestTwoEnginesOverALossyLink = TwoEnginesOverALossyLink.TestCase
TestTwoEnginesOverALossyLink.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None
)


def test_same_seed_same_run_other_seed_differs() -> None:
    data = {
        "name": "small-town",
        "duration": 600,
        "drain": 300,
        "loss": 0.1,
        "nodes": [{"generator": "grid", "rows": 4, "cols": 4, "spacing": 600, "jitter": 100}],
        "traffic": [{"from": "random", "count": 6, "size": [60, 200]}],
    }
    runs = []
    for seed in (5, 5, 6):
        result, report = run_scenario(scenario_from_dict({**data, "seed": seed}), engine="jarshy")
        runs.append((result.deliveries, result.counters, report.summary["airtime_s"]))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
