"""Trust policy and the ingest pipeline over a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.ingest import Ingest, Outcome
from relay.store import Store
from relay.trust import MAX_CHAIN, Status
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.helpers import T0, announcement, certificate, news, revocation, safety

NOW = float(T0 + 60)
ROOT = make_identity("newsroom-root")
ALICE = make_identity("alice")
BOB = make_identity("bob")
MALLORY = make_identity("mallory")


@pytest.fixture
def node(tmp_path: Path) -> Ingest:
    ingest = Ingest(Store(tmp_path / "node.sqlite3"))
    ingest.add_root(ROOT.public_key, "Newsroom", NOW)
    return ingest


def test_root_signed_bulletin_is_trusted(node: Ingest) -> None:
    result = node.ingest(news(ROOT).raw, NOW, "radio")
    assert result.outcome is Outcome.ACCEPTED
    assert result.verdict is not None and result.verdict.status is Status.TRUSTED
    assert result.verdict.name == "Newsroom"


def test_certified_key_is_trusted_with_chain(node: Ingest) -> None:
    node.ingest(certificate(ROOT, ALICE, name="Alice (Newsroom)").raw, NOW, "radio")
    result = node.ingest(news(ALICE).raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.TRUSTED
    assert [link.name for link in result.verdict.chain] == ["Alice (Newsroom)", "Newsroom"]


def test_unknown_key_then_certificate_upgrades_verdict(node: Ingest) -> None:
    node.ingest(announcement(ALICE).raw, NOW, "radio")
    first = node.ingest(news(ALICE).raw, NOW, "radio")
    assert first.verdict is not None and first.verdict.status is Status.UNKNOWN_KEY
    assert first.verdict.claimed_name == "alice"
    cert = node.ingest(certificate(ROOT, ALICE).raw, NOW, "radio")
    changed = dict(cert.changed)
    assert first.id in changed and changed[first.id].status is Status.TRUSTED


def test_pending_key_is_held_then_verified(node: Ingest) -> None:
    held = node.ingest(news(BOB).raw, NOW, "radio")
    assert held.outcome is Outcome.ACCEPTED
    assert held.verdict is not None and held.verdict.status is Status.PENDING_KEY
    result = node.ingest(announcement(BOB).raw, NOW, "radio")
    assert dict(result.changed)[held.id].status is Status.UNKNOWN_KEY


def test_forged_author_rejected_and_not_stored(node: Ingest) -> None:
    """Attack 1: names the root as author, signed by Mallory."""
    unsigned = wire.encode_unsigned(Content(Kind.NEWS, ROOT.key_id, T0, "Evacuate now", "en"))
    forged = unsigned + MALLORY.sign(wire.SIGNING_DOMAIN + unsigned)
    result = node.ingest(forged, NOW, "radio")
    assert result.outcome is Outcome.REJECTED and "signature" in result.reason
    assert not node.store.seen(wire.decode(forged).id)
    assert node.rejected["bad-signature"] == 1


def test_display_name_spoofing_cannot_inherit_trust(node: Ingest) -> None:
    """Attack 3: a new key claiming the trusted author's name stays unknown."""
    node.ingest(announcement(MALLORY, name="Newsroom").raw, NOW, "radio")
    result = node.ingest(news(MALLORY).raw, NOW, "radio")
    assert result.verdict is not None
    assert result.verdict.status is Status.UNKNOWN_KEY
    assert result.verdict.name is None and result.verdict.claimed_name == "Newsroom"


def test_key_substitution_needs_a_certificate(node: Ingest) -> None:
    """Attack 4: Mallory certifies a 'new key for Alice' — Mallory is not trusted."""
    node.ingest(announcement(MALLORY).raw, NOW, "radio")
    node.ingest(certificate(MALLORY, ALICE, name="Newsroom").raw, NOW, "radio")
    result = node.ingest(news(ALICE).raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.UNKNOWN_KEY
    assert "issuer not trusted" in result.verdict.reason


def test_revoked_key(node: Ingest) -> None:
    node.ingest(certificate(ROOT, ALICE).raw, NOW, "radio")
    before = node.ingest(news(ALICE).raw, NOW, "radio")
    result = node.ingest(revocation(ROOT, ALICE).raw, NOW, "radio")
    assert dict(result.changed)[before.id].status is Status.REVOKED
    after = node.ingest(news(ALICE, "later").raw, NOW, "radio")
    assert after.verdict is not None and after.verdict.status is Status.REVOKED


def test_self_revocation_and_unrelated_revoker(node: Ingest) -> None:
    node.ingest(certificate(ROOT, ALICE).raw, NOW, "radio")
    node.ingest(revocation(MALLORY, ALICE).raw, NOW, "radio")  # Mallory has no say over Alice
    assert node.ingest(news(ALICE).raw, NOW, "radio").verdict.status is Status.TRUSTED  # type: ignore[union-attr]
    node.ingest(revocation(ALICE, ALICE).raw, NOW, "radio")
    assert node.ingest(news(ALICE, "x").raw, NOW, "radio").verdict.status is Status.REVOKED  # type: ignore[union-attr]


def test_expired_certificate(node: Ingest) -> None:
    node.ingest(certificate(ROOT, ALICE, lifetime=3600).raw, NOW, "radio")
    later = NOW + 10 * 86400
    result = node.ingest(news(ALICE).raw, later, "radio")
    assert result.verdict is not None and result.verdict.status is Status.UNKNOWN_KEY
    assert "expired" in result.verdict.reason


def test_certificate_for_wrong_kind(node: Ingest) -> None:
    node.ingest(certificate(ROOT, ALICE, kinds=1 << Kind.NEWS).raw, NOW, "radio")
    assert node.ingest(news(ALICE).raw, NOW, "radio").verdict.status is Status.TRUSTED  # type: ignore[union-attr]
    result = node.ingest(safety(ALICE).raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.UNKNOWN_KEY
    assert "does not allow safety" in result.verdict.reason


def test_chain_depth_limit(node: Ingest) -> None:
    keys = [make_identity(f"level{i}") for i in range(MAX_CHAIN + 1)]
    issuer = ROOT
    for key in keys:
        node.ingest(certificate(issuer, key, may_certify=True).raw, NOW, "radio")
        issuer = key
    ok = node.ingest(news(keys[MAX_CHAIN - 1]).raw, NOW, "radio")
    assert ok.verdict is not None and ok.verdict.status is Status.TRUSTED
    deep = node.ingest(news(keys[MAX_CHAIN]).raw, NOW, "radio")
    assert deep.verdict is not None and deep.verdict.status is Status.UNKNOWN_KEY
    assert "longer than" in deep.verdict.reason


def test_issuer_without_certify_right(node: Ingest) -> None:
    node.ingest(certificate(ROOT, ALICE, may_certify=False).raw, NOW, "radio")
    node.ingest(certificate(ALICE, BOB).raw, NOW, "radio")
    result = node.ingest(news(BOB).raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.UNKNOWN_KEY


def test_replay_is_duplicate_even_after_purge(node: Ingest) -> None:
    """Attack 5: a replay is never new, even once the original was purged."""
    alert = safety(ROOT, lifetime=600)
    assert node.ingest(alert.raw, NOW, "radio").outcome is Outcome.ACCEPTED
    assert node.store.purge_expired(NOW + 400 * 86400, retention=0) == 1
    assert node.ingest(alert.raw, NOW + 400 * 86400, "bundle").outcome is Outcome.DUPLICATE


def test_stored_bytes_are_the_verified_bytes(node: Ingest) -> None:
    """Attack 13: the store keeps the exact bytes that were verified, with the decision."""
    signed = news(ROOT)
    node.ingest(signed.raw, NOW, "radio", hops=2, snr=-7.5)
    row = node.store.get(signed.id)
    assert row is not None and row.raw == signed.raw and row.status is Status.TRUSTED
    assert row.hops == 2 and row.snr == -7.5


def test_trust_state_rebuilt_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite3"
    first = Ingest(Store(path))
    first.add_root(ROOT.public_key, "Newsroom", NOW)
    first.ingest(certificate(ROOT, ALICE).raw, NOW, "radio")
    first.store.close()
    second = Ingest(Store(path))
    result = second.ingest(news(ALICE).raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.TRUSTED


def test_removing_root_downgrades(node: Ingest) -> None:
    from relay.crypto.keys import key_id

    signed = news(ROOT)
    node.ingest(signed.raw, NOW, "radio")
    changed = dict(node.remove_root(key_id(ROOT.public_key), NOW))
    assert (
        changed[signed.id].status is Status.PENDING_KEY
        or changed[signed.id].status is Status.UNKNOWN_KEY
    )
