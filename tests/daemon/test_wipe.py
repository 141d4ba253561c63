"""The panic wipe against a running daemon: it is stopped through its API first, then nothing
readable remains; the duress passphrase at the API's unlock does the same."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from relay.api_client import ApiError
from tests.daemon.conftest import PASSPHRASE, Node, running


def leftovers(home: Path) -> bytes:
    if not home.exists():
        return b""
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file() and not p.is_symlink())


async def published(node: Node, text: str) -> tuple[bytes, bytes]:
    """Publish ``text`` as a new identity: (the identity's seed, the bulletin's signature)."""
    identity = node.new_identity("Newsroom")
    await node.call("unlock", identity="Newsroom", passphrase=PASSPHRASE)
    sent = await node.call("publish", kind="news", text=text, lang="en")
    raw = bytes.fromhex((await node.call("get", id=sent["id"]))["raw"])
    return identity.seed, raw[-64:]


@pytest.mark.asyncio
async def test_wipe_stops_the_running_daemon_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with running(home) as node:
        seed, signature = await published(node, "meet at the north bridge")
        task_done = node.daemon.stop
        result = await node.cli("wipe", "--yes")
        assert result.returncode == 0, result.stderr
        assert task_done.is_set()  # asked through the API, not killed
        assert "wiped" in result.stdout
        # The store was wiped only once the daemon had let go of it (its lock): nothing of it
        # was written back after the wipe.
        await asyncio.sleep(0)
    data = leftovers(home)
    assert seed not in data and seed.hex().encode() not in data
    assert signature not in data and b"north bridge" not in data and not (home / "keys").exists()
    assert not (home / "simulated.sqlite3").exists()


@pytest.mark.asyncio
async def test_shutdown_method_stops_the_daemon(tmp_path: Path) -> None:
    async with running(tmp_path / "home") as node:
        assert await node.call("shutdown") == {"stopping": True}
        await node.wait_for(lambda: asyncio.sleep(0, node.daemon.stop.is_set()))


@pytest.mark.asyncio
async def test_duress_passphrase_at_the_api_unlock_wipes_and_stops(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with running(home) as node:
        identity = node.new_identity("Newsroom")
        node.daemon.keystore.set_duress("they are watching")
        with pytest.raises(ApiError) as wrong:
            await node.call("unlock", identity="Newsroom", passphrase="they are watching")
        assert wrong.value.code == "wrong-passphrase"  # looks like an ordinary mistake
        await node.wait_for(lambda: asyncio.sleep(0, node.daemon.stop.is_set()))
    data = leftovers(home)
    assert identity.seed not in data and identity.seed.hex().encode() not in data
    assert not (home / "keys").exists()
