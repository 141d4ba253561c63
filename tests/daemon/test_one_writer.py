"""One writer: while a daemon runs, `jarshy trust add/remove` change its trust state, not a copy
of the store it loaded at start (it kept trusting a removed root until restarted)."""

from __future__ import annotations

import time

from relay.crypto.keys import encode_share
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.daemon.conftest import Node

EDITOR = make_identity("one-writer-editor")


async def status_of(daemon: Node, ident: bytes) -> str:
    got = await daemon.call("get", id=ident.hex())
    return str(got["bulletin"]["status"])


async def test_cli_trust_changes_reach_the_running_daemon(node: Node) -> None:
    from relay.bundle import write_bundle

    signed = wire.sign(
        Content(Kind.NEWS, EDITOR.key_id, int(time.time()), "Вода будет завтра.", "ru"), EDITOR
    )
    bundle = node.home / "one.jarshy"
    bundle.write_bytes(write_bundle([signed.raw], [EDITOR.public_key]))
    await node.call("import", path=str(bundle))
    assert await status_of(node, signed.id) == "unknown_key"

    added = await node.cli("trust", "add", encode_share(EDITOR.public_key, "Editor"))
    assert added.returncode == 0, added.stderr
    assert "by the running daemon" in added.stdout
    assert await status_of(node, signed.id) == "trusted"
    listed = await node.cli("trust", "list")
    assert "Editor" in listed.stdout

    removed = await node.cli("trust", "remove", "Editor")
    assert removed.returncode == 0, removed.stderr
    assert await status_of(node, signed.id) != "trusted"
    roots = await node.call("trust.list")
    assert all(r["name"] != "Editor" for r in roots)
