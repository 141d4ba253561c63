"""Issue 9's attacks on trust and ingest, each through the ingest pipeline over real SQLite.

Every test here failed on the code before the fix (trust rules v1): see docs/threat-model.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from relay.crypto.keys import Identity, key_id
from relay.holding import Holding, HoldLimits
from relay.ingest import MAX_CANDIDATES, Ingest, Outcome
from relay.lifetime import FUTURE_TOLERANCE
from relay.store import Store
from relay.trust import Status, TrustState, evaluate
from relay.trust_graph import MAX_CHAIN
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.helpers import T0, announcement, certificate, news, revocation, safety

NOW = float(T0 + 60)
ROOT = make_identity("newsroom-root")
ALICE = make_identity("alice")
STRANGER = make_identity("stranger")


@pytest.fixture
def node(tmp_path: Path) -> Ingest:
    ingest = Ingest(Store(tmp_path / "node.sqlite3"))
    ingest.add_root(ROOT.public_key, "Newsroom", NOW)
    return ingest


def status_of(node: Ingest, ident: bytes) -> Status:
    row = node.store.get(ident)
    assert row is not None
    return row.status


def junk_copy(raw: bytes) -> bytes:
    """The same bulletin (same id) with a corrupted signature."""
    return raw[:-64] + bytes(b ^ 0x55 for b in raw[-64:])


# -- 1. a stranger's key revokes a trusted root ----------------------------------------------


def stranger_revokes(node: Ingest, target: Identity) -> None:
    for bulletin in (
        announcement(STRANGER),
        certificate(STRANGER, target, may_certify=True),
        revocation(STRANGER, target),
    ):
        assert node.ingest(bulletin.raw, NOW, "radio").outcome is Outcome.ACCEPTED


def test_stranger_cannot_revoke_a_root(node: Ingest, tmp_path: Path) -> None:
    before = news(ROOT, "before")
    node.ingest(before.raw, NOW, "radio")
    stranger_revokes(node, ROOT)
    later = node.ingest(news(ROOT, "later").raw, NOW, "radio")
    assert later.verdict is not None and later.verdict.status is Status.TRUSTED
    assert status_of(node, before.id) is Status.TRUSTED
    node.store.close()
    again = Ingest(Store(tmp_path / "node.sqlite3"))  # restart: state rebuilt from the store
    again.settle(NOW)
    assert status_of(again, before.id) is Status.TRUSTED
    result = again.ingest(news(ROOT, "after restart").raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.TRUSTED


def test_stranger_cannot_revoke_a_certified_key(node: Ingest) -> None:
    node.ingest(certificate(ROOT, ALICE).raw, NOW, "radio")
    held = news(ALICE)
    node.ingest(held.raw, NOW, "radio")
    stranger_revokes(node, ALICE)
    assert status_of(node, held.id) is Status.TRUSTED


def test_a_root_is_revoked_only_by_itself(node: Ingest) -> None:
    other = make_identity("other-root")
    node.add_root(other.public_key, "Other", NOW)
    node.ingest(certificate(other, ROOT, may_certify=True).raw, NOW, "radio")
    node.ingest(revocation(other, ROOT).raw, NOW, "radio")  # a trusted root, but not ROOT itself
    assert node.ingest(news(ROOT).raw, NOW, "radio").verdict.status is Status.TRUSTED  # type: ignore[union-attr]
    node.ingest(revocation(ROOT, ROOT).raw, NOW, "radio")
    result = node.ingest(news(ROOT, "after").raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.REVOKED
    assert result.verdict.evidence  # names the revocation that produced it


def test_revocation_by_a_trusted_certifier_with_evidence(node: Ingest) -> None:
    cert = certificate(ROOT, ALICE)
    node.ingest(cert.raw, NOW, "radio")
    trusted = node.ingest(news(ALICE).raw, NOW, "radio")
    assert trusted.verdict is not None and trusted.verdict.evidence == (cert.id,)
    revoke = revocation(ROOT, ALICE)
    result = node.ingest(revoke.raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.TRUSTED  # relayed
    assert dict(result.changed)[trusted.id].evidence == (revoke.id,)


def test_revoked_issuer_cannot_revoke_on_its_way_out(node: Ingest) -> None:
    """The root revokes Alice; Alice's own revocation of Bob (whom she certified) is void."""
    bob = make_identity("bob")
    node.ingest(certificate(ROOT, ALICE, may_certify=True).raw, NOW, "radio")
    node.ingest(certificate(ALICE, bob).raw, NOW, "radio")
    node.ingest(revocation(ALICE, bob).raw, NOW, "radio")
    node.ingest(revocation(ROOT, ALICE).raw, NOW, "radio")
    result = node.ingest(news(bob).raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.UNKNOWN_KEY
    assert result.verdict.status is not Status.REVOKED


def test_readding_a_root_rejudges_from_scratch(node: Ingest) -> None:
    signed = news(ROOT)
    node.ingest(signed.raw, NOW, "radio")
    stranger_revokes(node, ROOT)
    node.remove_root(ROOT.key_id, NOW)
    assert status_of(node, signed.id) is not Status.TRUSTED
    changed = dict(node.add_root(ROOT.public_key, "Newsroom", NOW))
    assert changed[signed.id].status is Status.TRUSTED


# -- 2. a junk-signature copy heard first ----------------------------------------------------


def test_junk_copy_first_with_known_key_does_not_block(node: Ingest) -> None:
    genuine = news(ROOT)
    assert node.ingest(junk_copy(genuine.raw), NOW, "radio").outcome is Outcome.REJECTED
    result = node.ingest(genuine.raw, NOW, "radio")
    assert result.outcome is Outcome.ACCEPTED
    assert result.verdict is not None and result.verdict.status is Status.TRUSTED


def test_junk_copy_first_with_unknown_key_then_genuine(node: Ingest) -> None:
    genuine = news(ALICE)
    first = node.ingest(junk_copy(genuine.raw), NOW, "radio")
    assert first.verdict is not None and first.verdict.status is Status.PENDING_KEY
    assert not node.store.seen(genuine.id)  # the id is not consumed
    second = node.ingest(genuine.raw, NOW, "radio")
    assert second.outcome is Outcome.DUPLICATE and "beside" in second.reason
    node.ingest(certificate(ROOT, ALICE).raw, NOW, "radio")
    node.settle(NOW)
    row = node.store.get(genuine.id)
    assert row is not None and row.status is Status.TRUSTED and row.raw == genuine.raw
    assert node.store.seen(genuine.id)


def test_only_junk_copies_become_invalid_and_free_the_id(node: Ingest) -> None:
    genuine = news(ALICE)
    node.ingest(junk_copy(genuine.raw), NOW, "radio")
    node.ingest(announcement(ALICE).raw, NOW, "radio")
    node.settle(NOW)
    assert node.store.get(genuine.id) is None and not node.store.seen(genuine.id)
    assert node.ingest(genuine.raw, NOW, "radio").outcome is Outcome.ACCEPTED


def test_candidate_copies_are_bounded(node: Ingest) -> None:
    genuine = news(ALICE)
    body = genuine.raw[:-64]
    for _ in range(MAX_CANDIDATES + 3):
        node.ingest(body + os.urandom(64), NOW, "radio")
    assert len(node._holding.candidates(genuine.id)) == MAX_CANDIDATES


def test_genuine_copy_after_key_known_replaces_held_junk(node: Ingest) -> None:
    genuine = news(ALICE)
    node.ingest(junk_copy(genuine.raw), NOW, "radio")
    node.state.bind_key(ALICE.key_id, ALICE.public_key)  # key learnt, re-judge not yet run
    result = node.ingest(genuine.raw, NOW, "radio")
    assert result.outcome is Outcome.ACCEPTED
    row = node.store.get(genuine.id)
    assert row is not None and row.raw == genuine.raw


# -- 4. CPU: only what can change is re-judged; chain search bounded ------------------------


def test_self_announcements_rejudge_only_their_author(node: Ingest) -> None:
    for i in range(50):
        node.ingest(news(ROOT, f"held {i}").raw, NOW, "radio")
    calls = 0
    original = node._judge_row

    def counting(*args: object) -> None:
        nonlocal calls
        calls += 1
        original(*args)  # type: ignore[arg-type]

    node._judge_row = counting  # type: ignore[method-assign]
    for i in range(40):
        node.ingest(announcement(make_identity(f"flood-{i}")).raw, NOW, "radio")
    assert calls <= 40  # each re-judges its own author's rows (itself), never the 50 held ones


def test_junk_certificates_do_not_hide_the_genuine_one(node: Ingest) -> None:
    """Fan-out: strangers' certificates for Alice are never visited by the search."""
    for i in range(3 * MAX_CHAIN * 20):
        issuer = make_identity(f"junk-{i}")
        node.ingest(certificate(issuer, ALICE, may_certify=True).raw, NOW, "radio")
    node.ingest(certificate(ROOT, ALICE).raw, NOW, "radio")
    result = node.ingest(news(ALICE).raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.TRUSTED


# -- 6. storage: pending bulletins from unknown keys are bounded ----------------------------


def test_pending_bulletins_are_bounded_and_safety_outranks_news(tmp_path: Path) -> None:
    store = Store(tmp_path / "node.sqlite3")
    node = Ingest(store, holding=Holding(store, HoldLimits(rows=20, rows_per_origin=10)))
    node.add_root(ROOT.public_key, "Newsroom", NOW)
    for i in range(60):  # random author ids, no key, no crypto needed
        content = Content(Kind.NEWS, os.urandom(8), T0, f"spam {i}", "en")
        raw = wire.encode_unsigned(content) + os.urandom(64)
        node.ingest(raw, NOW, "radio", origin=f"radio:!{i % 7:08x}")
    assert node._holding.usage()[0] <= 20
    assert node._holding.usage("radio:!00000001")[0] <= 10
    alert = safety(ALICE, severity="extreme")
    assert (
        node.ingest(alert.raw, NOW, "radio", origin="radio:!0000aaaa").outcome is Outcome.ACCEPTED
    )
    trusted = node.ingest(news(ROOT, "real news").raw, NOW, "radio")
    assert trusted.verdict is not None and trusted.verdict.status is Status.TRUSTED
    assert node.rejected["untrusted-quota"] == 0  # every newcomer so far could evict older news


def test_pending_rows_expire(node: Ingest) -> None:
    from relay.holding import PENDING_TTL

    held = news(ALICE)
    node.ingest(held.raw, NOW, "radio")
    assert node.expire_untrusted(NOW + PENDING_TTL + 1) == 1
    assert node.store.get(held.id) is None


# -- 7. lesser holes -------------------------------------------------------------------------


def test_correction_by_another_key_is_not_linked(node: Ingest) -> None:
    original = news(ROOT)
    node.ingest(original.raw, NOW, "radio")
    fake = wire.sign(
        Content(Kind.CORRECTION, STRANGER.key_id, T0 + 5, "retracted", "en", ref=original.id),
        STRANGER,
    )
    node.ingest(announcement(STRANGER).raw, NOW, "radio")
    node.ingest(fake.raw, NOW, "radio")
    own = wire.sign(
        Content(Kind.CORRECTION, ROOT.key_id, T0 + 6, "fixed", "en", ref=original.id), ROOT
    )
    node.ingest(own.raw, NOW, "radio")
    assert [row.id for row in node.store.referring(original.id)] == [own.id]


def test_alert_dated_in_2106_does_not_stay_current_for_decades(node: Ingest) -> None:
    alert = safety(ROOT, created=4_291_747_200, lifetime=3600)  # 2106-01-01
    result = node.ingest(alert.raw, NOW, "radio")
    assert result.verdict is not None and "ahead of this node's clock" in result.verdict.reason
    row = node.store.get(alert.id)
    assert row is not None and row.expires_at is not None
    assert row.expires_at <= NOW + FUTURE_TOLERANCE + 3600


def test_certificate_dated_far_ahead_grants_nothing(node: Ingest) -> None:
    node.ingest(certificate(ROOT, ALICE, created=4_291_747_200).raw, NOW, "radio")
    result = node.ingest(news(ALICE).raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.UNKNOWN_KEY
    assert "future" in result.verdict.reason


def test_a_bound_key_id_is_never_rebound() -> None:
    """Trust is bound to the full key: a second key under a bound id fails verification."""
    state = TrustState()
    state.keys[ALICE.key_id] = STRANGER.public_key  # as if a colliding key had been bound first
    announced = announcement(ALICE)
    key = state.public_key(announced)
    assert key == STRANGER.public_key
    assert not wire.verify(announced, key)
    assert evaluate(state, announced, False, NOW).status is Status.INVALID
    assert not state.bind_key(ALICE.key_id, ALICE.public_key)


def test_learn_key_refuses_to_rebind(node: Ingest) -> None:
    node.state.keys[key_id(ALICE.public_key)] = STRANGER.public_key
    assert node.learn_key(ALICE.public_key, NOW) == ()
    assert node.state.keys[ALICE.key_id] == STRANGER.public_key


def test_a_store_judged_under_the_old_rules_is_judged_again(tmp_path: Path) -> None:
    """A node upgraded from trust rules v1 may hold the verdicts attack 1 forced (the root
    'revoked'); the first start under these rules re-judges every stored bulletin."""
    from relay.trust import Verdict

    path = tmp_path / "node.sqlite3"
    first = Ingest(Store(path))
    first.add_root(ROOT.public_key, "Newsroom", NOW)
    signed = news(ROOT)
    first.ingest(signed.raw, NOW, "radio")
    first.store.set_verdict(signed.id, Verdict(Status.REVOKED, "key revoked (compromised)"))
    first.store.set_meta("trust_rules", "1")
    first.store.close()
    upgraded = Ingest(Store(path))
    assert upgraded.backlog
    changed = dict(upgraded.settle(NOW))
    assert changed[signed.id].status is Status.TRUSTED
    assert not upgraded.backlog and upgraded.store.meta("trust_rules") is not None


def test_an_upgraded_store_counts_old_untrusted_rows_and_frees_pending_ids(tmp_path: Path) -> None:
    """Rules v1 marked a pending bulletin's id seen (so its genuine copy was a duplicate for
    good) and kept untrusted rows outside any quota: the upgrade undoes both."""
    path = tmp_path / "node.sqlite3"
    first = Ingest(Store(path))
    junk = junk_copy(news(ALICE).raw)
    first.ingest(junk, NOW, "radio")
    ident = wire.parse(junk).id
    first.store.mark_seen(ident, NOW)  # as rules v1 did
    first.store.db.execute("DELETE FROM untrusted")  # v1 had no quotas
    first.store.set_meta("trust_rules", "1")
    first.store.close()
    upgraded = Ingest(Store(path))
    assert not upgraded.store.seen(ident)
    assert upgraded._holding.usage()[0] == 1
    upgraded.ingest(news(ALICE).raw, NOW, "radio")  # the genuine copy: held beside the junk one
    upgraded.add_root(ROOT.public_key, "Newsroom", NOW)
    upgraded.ingest(certificate(ROOT, ALICE).raw, NOW, "radio")
    upgraded.settle(NOW)
    row = upgraded.store.get(ident)
    assert row is not None and row.status is Status.TRUSTED and row.raw == news(ALICE).raw
