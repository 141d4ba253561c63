"""The test vectors printed in docs/protocol.md are what the code produces and verifies."""

from __future__ import annotations

import json
import re
from pathlib import Path

from relay.ingest import Ingest, Outcome
from relay.packets import bulletin_from_packet_file
from relay.store import Store
from relay.trust import Status
from relay.wire.fragments import Reassembler
from relay.wire.vectors import vectors

DOC = Path(__file__).parent.parent / "docs" / "protocol.md"


def documented() -> list[dict[str, object]]:
    match = re.search(
        r"<!-- vectors:begin -->\n```json\n(.*?)\n```\n<!-- vectors:end -->", DOC.read_text(), re.S
    )
    assert match, "vectors block missing from docs/protocol.md"
    return list(json.loads(match.group(1)))


def test_document_matches_code() -> None:
    assert documented() == vectors(), (
        "docs/protocol.md vectors are stale: run `python -m relay.wire.vectors --update-docs`"
    )


def test_vectors_get_their_verdicts(tmp_path: Path) -> None:
    """Evaluated at the receiver time the document states: verdicts depend on the clock."""
    keys, *items = documented()
    node = Ingest(Store(tmp_path / "v.sqlite3"))
    root = keys["keys"]["root"]  # type: ignore[index]
    now = float(keys["now"])  # type: ignore[arg-type]
    node.add_root(bytes.fromhex(root["public_key"]), "root", now)
    by_name = {item["name"]: item for item in items}
    for item in items:
        if "packets" in item:
            reassembler = Reassembler()
            raw = None
            for packet in item["packets"]:  # type: ignore[union-attr]
                raw = reassembler.add(bytes.fromhex(packet), now) or raw
            assert raw is not None
        else:
            raw = bytes.fromhex(str(item["bytes"]))
        result = node.ingest(raw, now, "test")
        expected = str(item["verdict"])
        if expected.startswith("invalid"):
            assert result.outcome is Outcome.REJECTED, item["name"]
            if "error" in item:
                assert result.reason.startswith(f"{item['error']}:"), (item["name"], result.reason)
        else:
            assert result.verdict is not None and result.verdict.status is Status.TRUSTED, item[
                "name"
            ]
            if "unreadable" in expected:  # admitted with its verdict; its text reads as bad
                assert result.id is not None
                row = node.store.get(result.id)
                assert row is not None and row.text == "", item["name"]
                assert row.text_error is not None
                assert row.text_error.startswith(f"{item['error']}:"), item["name"]
            if "text" in item:
                assert result.bulletin is not None and result.bulletin.content.text == item["text"]
            if "id" in item:
                assert result.id is not None and result.id.hex() == item["id"]
    assert "news by alice" in by_name


def test_verdicts_are_stated_at_a_time_before_the_certificate_expires() -> None:
    """The document names its evaluation time; the certificate (90 days + 1 day of grace from
    2026-01-01) no longer makes alice trusted after 2026-04-02, so the time must be stated."""
    keys, *_ = documented()
    assert keys["now"] == 1_767_225_600 + 600  # type: ignore[index]
    assert "`now` = 1767226200" in DOC.read_text()


def test_every_rejection_vector_is_rejected_by_the_decoder_with_its_code() -> None:
    from relay.wire import bulletin as wire
    from relay.wire.errors import WireError

    _, *items = documented()
    rejected = [item for item in items if "error" in item]
    assert len(rejected) >= 9
    for item in rejected:
        try:
            wire.decode(bytes.fromhex(str(item["bytes"])))
        except WireError as exc:
            assert exc.code == item["error"], item["name"]
        else:
            raise AssertionError(f"accepted: {item['name']}")


def test_packet_file_of_fragments_round_trips() -> None:
    _, *items = documented()
    fragmented = next(item for item in items if "packets" in item)
    packets = [bytes.fromhex(p) for p in fragmented["packets"]]  # type: ignore[union-attr]
    data = b"".join(bytes([len(p)]) + p for p in packets)
    raw = bulletin_from_packet_file(data)
    assert raw[0] == 0x10
