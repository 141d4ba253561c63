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
    keys, *items = documented()
    node = Ingest(Store(tmp_path / "v.sqlite3"))
    root = keys["keys"]["root"]  # type: ignore[index]
    node.add_root(bytes.fromhex(root["public_key"]), "root", 1_767_225_600.0)
    now = 1_767_225_600.0 + 600
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
        else:
            assert result.verdict is not None and result.verdict.status is Status.TRUSTED, item[
                "name"
            ]
            if "text" in item:
                assert result.bulletin is not None and result.bulletin.content.text == item["text"]
            if "id" in item:
                assert result.id is not None and result.id.hex() == item["id"]
    assert "news by alice" in by_name


def test_packet_file_of_fragments_round_trips() -> None:
    _, *items = documented()
    fragmented = next(item for item in items if "packets" in item)
    packets = [bytes.fromhex(p) for p in fragmented["packets"]]  # type: ignore[union-attr]
    data = b"".join(bytes([len(p)]) + p for p in packets)
    raw = bulletin_from_packet_file(data)
    assert raw[0] == 0x10
