"""The ingest pipeline's order of work: admission never decompresses a text (docs/protocol.md §4,
"When the text is checked"); a text is decoded once, when first read, and a bad blob makes the
bulletin unreadable (shown with the reason), not a different verdict."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import relay.crypto.keys
import relay.wire.bulletin
from relay.codec import decode_text
from relay.crypto.keys import Identity
from relay.ingest import Ingest, Outcome
from relay.read_text import read_text
from relay.store import TEXT_UNREADABLE, Store
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.codec_fields import fields_from_content
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.helpers import T0, news

NOW = float(T0 + 60)
ROOT = make_identity("newsroom-root")
BOB = make_identity("bob")
MALLORY = make_identity("mallory")
TEXT = "Вода будет завтра в 10:00, Абай даңғылы."


class Calls:
    def __init__(self) -> None:
        self.text = 0
        self.verify = 0


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Counts text decodes and signature checks made by the pipeline."""
    counted = Calls()
    real_verify = relay.crypto.keys.verify

    def counting_decode_text(blob: bytes, max_bytes: int = 4096) -> str:
        counted.text += 1
        return decode_text(blob, max_bytes)

    def counting_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
        counted.verify += 1
        return real_verify(public_key, message, signature)

    read_text.cache_clear()
    monkeypatch.setattr(relay.wire.bulletin, "decode_text", counting_decode_text)
    monkeypatch.setattr(relay.crypto.keys, "verify", counting_verify)
    return counted


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Ingest]:
    ingest = Ingest(Store(tmp_path / "node.sqlite3"))
    ingest.add_root(ROOT.public_key, "Newsroom", NOW)
    yield ingest
    ingest.store.close()


def _signed(author: Identity, unsigned: bytes) -> bytes:
    return unsigned + author.sign(wire.SIGNING_DOMAIN + unsigned)


def _with_blob(author: Identity, blob: bytes) -> bytes:
    """A news bulletin by ``author`` whose text blob is ``blob``, validly signed."""
    content = Content(Kind.NEWS, author.key_id, T0, "x", "ru")
    header = bytes([(wire.VERSION << 4) | int(Kind.NEWS)]) + author.key_id + T0.to_bytes(4, "big")
    return _signed(author, header + fields_from_content(content) + blob)


def test_accepted_bulletin_is_verified_once_and_its_text_read_when_asked(
    node: Ingest, calls: Calls
) -> None:
    raw = news(ROOT, TEXT).raw
    calls.verify = calls.text = 0  # signing decodes its own output
    result = node.ingest(raw, NOW, "radio")
    assert result.outcome is Outcome.ACCEPTED
    assert (calls.verify, calls.text) == (1, 0)  # a relay's admission never reads the text
    assert result.id is not None
    row = node.store.get(result.id)
    assert row is not None and row.text == TEXT and row.text_error is None
    assert calls.text == 1
    again = node.store.get(result.id)
    assert again is not None and again.text == TEXT and calls.text == 1  # read once


def test_duplicate_costs_no_signature_check_and_no_text(node: Ingest, calls: Calls) -> None:
    raw = news(ROOT, TEXT).raw
    first = node.ingest(raw, NOW, "radio")
    assert first.outcome is Outcome.ACCEPTED
    calls.verify = calls.text = 0
    again = node.ingest(raw, NOW + 1, "radio")
    assert again.outcome is Outcome.DUPLICATE
    assert (calls.verify, calls.text) == (0, 0)
    assert again.id == first.id
    # A copy with a garbage signature is the same bulletin (the id covers the signed bytes).
    copy = node.ingest(raw[:-64] + bytes(64), NOW + 2, "radio")
    assert copy.outcome is Outcome.DUPLICATE and (calls.verify, calls.text) == (0, 0)
    # The caller can still read the bulletin: decoded on demand.
    assert again.bulletin is not None and again.bulletin.content.text == TEXT
    assert calls.text == 1


def test_forgery_is_rejected_before_its_text_is_decoded(node: Ingest, calls: Calls) -> None:
    unsigned = wire.encode_unsigned(Content(Kind.NEWS, ROOT.key_id, T0, TEXT, "ru"))
    forged = _signed(MALLORY, unsigned)
    calls.verify = calls.text = 0
    result = node.ingest(forged, NOW, "radio")
    assert result.outcome is Outcome.REJECTED and "signature" in result.reason
    assert (calls.verify, calls.text) == (1, 0)
    assert node.rejected["bad-signature"] == 1
    assert not node.store.seen(wire.parse(forged).id)
    # Shown as a forgery with its text when asked for (the daemon keeps recent forgeries).
    assert result.bulletin is not None and result.bulletin.content.text == TEXT
    assert calls.text == 1


def test_forgery_with_a_broken_text_is_rejected_and_has_no_bulletin(node: Ingest) -> None:
    forged = _with_blob(MALLORY, bytes([16, 0, 1]))  # Mallory signs, names himself...
    forged = forged[:1] + ROOT.key_id + forged[9:]  # ...then claims to be the root
    result = node.ingest(forged, NOW, "radio")
    assert result.outcome is Outcome.REJECTED and node.rejected["bad-signature"] == 1
    assert result.bulletin is None
    assert not node.store.seen(wire.parse(forged).id)


BAD_BLOBS = {
    "unknown codec": bytes([250]) + b"abc",
    "non-canonical ppm": bytes([16, 0]) + b"\x05",
    "deflate bomb": bytes([6]) + zlib.compress(b"A" * 1_000_000, 9)[2:-4],
}


@pytest.mark.parametrize("blob", BAD_BLOBS.values(), ids=BAD_BLOBS.keys())
@pytest.mark.parametrize(
    ("author", "status"),
    [(ROOT, Status.TRUSTED), (BOB, Status.PENDING_KEY)],
    ids=["trusted", "pending-key"],
)
def test_signed_bulletin_with_a_bad_text_keeps_its_verdict_and_reads_as_unreadable(
    node: Ingest, author: Identity, status: Status, blob: bytes
) -> None:
    raw = _with_blob(author, blob)
    result = node.ingest(raw, NOW, "radio")
    assert result.outcome is Outcome.ACCEPTED
    assert result.verdict is not None and result.verdict.status is status
    assert result.id is not None
    row = node.store.get(result.id)
    assert row is not None and row.text == ""
    assert row.text_error is not None and row.text_error.startswith("bad-text")
    assert result.bulletin is None  # a full decode refuses it, as the vectors say
    assert node.store.read_texts(10) == 1  # the background pass records it once
    stored = node.store.get(result.id)
    assert stored is not None and stored.text_state == TEXT_UNREADABLE
    assert stored.text_error == row.text_error and node.store.read_texts(10) == 0


def test_pending_key_bulletin_is_stored_and_its_text_read_when_asked(
    node: Ingest, calls: Calls
) -> None:
    raw = news(BOB, TEXT).raw
    calls.verify = calls.text = 0
    result = node.ingest(raw, NOW, "radio")
    assert result.verdict is not None and result.verdict.status is Status.PENDING_KEY
    assert (calls.verify, calls.text) == (0, 0)  # no key to check with, no text to read yet
    assert result.id is not None
    row = node.store.get(result.id)
    assert row is not None and row.text == TEXT and calls.text == 1


def test_an_empty_text_blob_is_unreadable_and_no_blob_breaks_the_kind_rule(node: Ingest) -> None:
    raw = _with_blob(ROOT, bytes([0]))  # a blob that decodes to "": a second spelling of no text
    result = node.ingest(raw, NOW, "radio")
    assert result.outcome is Outcome.ACCEPTED and result.id is not None
    row = node.store.get(result.id)
    assert row is not None and row.text_error is not None and "empty" in row.text_error
    no_blob = _with_blob(ROOT, b"")  # news without a text: "text required", on the field map
    refused = node.ingest(no_blob, NOW, "radio")
    assert refused.outcome is Outcome.REJECTED and "text required" in refused.reason
    assert node.rejected["bad-fields"] == 1


def test_search_reads_unread_texts_first(node: Ingest) -> None:
    from relay.store import Query

    for i in range(3):
        node.ingest(news(ROOT, f"{TEXT} {i}", created=T0 + i).raw, NOW, "radio")
    assert node.store.unread
    found = node.store.query(Query(text="абай"))
    assert len(found) == 3 and not node.store.unread


def test_parse_then_open_text_is_decode() -> None:
    raw = news(ROOT, TEXT).raw
    envelope = wire.parse(raw)
    assert envelope.content.text == "" and envelope.text_blob
    assert envelope.id == wire.decode(raw).id
    assert wire.open_text(envelope) == wire.decode(raw)
    assert wire.verify(envelope, ROOT.public_key) and not wire.verify(envelope, BOB.public_key)
