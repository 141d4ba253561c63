"""`import` through the API of a running daemon: special files and oversized or damaged bundles are
refused quickly with a clear error, nothing from them is stored, and the daemon stays responsive."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from relay import bundle, daemon_api
from relay.api_client import ApiClient, ApiError
from relay.bundle import write_bundle
from relay.crypto.keys import generate_identity
from relay.store import Query
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.daemon.conftest import Node


async def refusal(daemon: Node, path: str) -> ApiError:
    try:
        await daemon.call("import", path=path)
    except ApiError as exc:
        return exc
    raise AssertionError(f"import {path} succeeded")


async def test_import_refuses_special_large_and_damaged_files(node: Node, tmp_path: Path) -> None:
    author = generate_identity("Stick")
    news = wire.sign(Content(Kind.NEWS, author.key_id, 1_800_000_000, "С флешки.", "ru"), author)
    data = write_bundle([news.raw], [author.public_key])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    truncated = tmp_path / "cut.jarshy"
    truncated.write_bytes(data[:-5])
    big = tmp_path / "big.jarshy"
    with open(big, "wb") as f:
        f.write(data)
        f.truncate(bundle.MAX_BUNDLE_BYTES + 1)  # sparse
    cases = [
        ("/dev/zero", "not a regular file (a character device)"),
        (str(fifo), "not a regular file (a FIFO)"),
        (str(big), f"more than the {bundle.MAX_BUNDLE_BYTES} allowed"),
        (str(truncated), "damaged record"),
        (str(tmp_path), "is a directory"),
    ]
    for path, message in cases:
        started = time.monotonic()
        error = await refusal(node, path)  # the client's own 30 s timeout bounds a hang
        assert error.code == "bad-params" and message in error.message, (path, error.message)
        assert time.monotonic() - started < 5
    assert (await refusal(node, "")).code == "bad-params"
    try:
        await node.call("get", id=news.id.hex())
    except ApiError as exc:
        assert exc.code == "not-found"  # nothing from the truncated bundle was stored
    else:
        raise AssertionError("a bulletin from a refused bundle was stored")
    good = tmp_path / "good.jarshy"
    good.write_bytes(data)
    result = await node.call("import", path=str(good))
    assert result == {"accepted": 1, "duplicate": 0, "rejected": 0}
    assert await node.call("hello")


async def test_a_large_import_lets_the_daemon_serve_others_meanwhile(
    node: Node, tmp_path: Path
) -> None:
    """Issue 11: an import used to take in every record in one go on the event loop, so the radio
    and every client waited for all of it. Now subscribers hear its bulletins while it runs."""
    author = generate_identity("Stick")
    now = int(time.time())
    raws = [
        wire.sign(Content(Kind.NEWS, author.key_id, now - n, f"Новость {n}.", "ru"), author).raw
        for n in range(3 * daemon_api.IMPORT_SLICE)
    ]
    stick = tmp_path / "big.jarshy"
    stick.write_bytes(write_bundle(raws, [author.public_key]))
    stored_when_heard: list[int] = []  # how much of the bundle was in, as each event arrived
    mine = Query(author=author.key_id)
    async with ApiClient(node.socket) as listener:
        await listener.call("subscribe", events=["bulletin"])

        async def listen() -> None:
            async for event in listener.events():
                if event["data"]["author"] == author.key_id.hex():
                    stored_when_heard.append(node.daemon.store.count(mine))

        listening = asyncio.create_task(listen())
        result = await node.call("import", path=str(stick))
        await node.wait_for(lambda: asyncio.sleep(0, len(stored_when_heard) == len(raws)))
        listening.cancel()
    assert result == {"accepted": len(raws), "duplicate": 0, "rejected": 0}
    assert min(stored_when_heard) < len(raws)  # a client was served while the import ran
