"""Idle and non-reading API clients cannot lock others out (threat model, attack 7), on real Unix
sockets: a bare server with a short idle timeout, and a running daemon (``JARSHY_API_IDLE``)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from relay import api
from relay.api import ApiServer, Handler
from relay.api_client import ApiClient, ApiError
from tests.daemon.conftest import running

IDLE = 0.5


def handlers() -> dict[str, Handler]:
    async def echo(params: dict[str, Any]) -> Any:
        return params

    async def slow(params: dict[str, Any]) -> Any:
        await asyncio.sleep(float(params["s"]))
        return "done"

    async def hello(params: dict[str, Any]) -> Any:
        return {"api": 1}

    return {"echo": echo, "slow": slow, "hello": hello}


async def start(tmp_path: Path, idle: float = IDLE) -> ApiServer:
    server = ApiServer(tmp_path / "a.sock", handlers(), idle_timeout=idle)
    await server.start()
    return server


async def answered_within(path: Path, seconds: float) -> float:
    """Seconds until a fresh client gets a real answer (retrying on `busy`)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            async with ApiClient(path, timeout=seconds) as client:
                assert await client.call("hello")
                return time.monotonic() - started
        except ApiError as exc:
            assert exc.code == "busy" and "closed after" in exc.message
        except ConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer within {seconds} s")


async def test_idle_clients_are_closed_and_a_newcomer_is_answered(tmp_path: Path) -> None:
    server = await start(tmp_path)
    try:
        idle = [await asyncio.open_unix_connection(str(server.path)) for _ in range(64)]
        await asyncio.sleep(0.05)
        assert len(server.connections) == api.MAX_CONNECTIONS
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        busy = json.loads(await asyncio.wait_for(reader.readline(), 2))
        assert busy["error"]["code"] == "busy"  # an immediate answer, not a hang
        writer.close()
        assert await answered_within(server.path, IDLE + 5) < IDLE + 3
        for r, w in idle:  # each idle client was told why, then closed
            reply = json.loads(await asyncio.wait_for(r.readline(), 2))
            assert reply["error"]["code"] == "idle"
            assert await asyncio.wait_for(r.read(), 2) == b""
            w.close()
    finally:
        await server.close()


async def test_a_trickled_request_is_bounded_in_time(tmp_path: Path) -> None:
    server = await start(tmp_path)
    try:
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        started = time.monotonic()
        closed_after = None
        for _ in range(200):  # one byte every 50 ms, never a newline
            try:
                writer.write(b" ")
                await writer.drain()
            except ConnectionError:
                pass
            await asyncio.sleep(0.05)
            if reader.at_eof() or not server.connections:
                closed_after = time.monotonic() - started
                break
        assert closed_after is not None and closed_after < IDLE + 3
        reply = json.loads(await asyncio.wait_for(reader.readline(), 2))
        assert reply["error"]["code"] == "idle"
        writer.close()
    finally:
        await server.close()


async def test_busy_requests_and_subscribers_are_not_idle(tmp_path: Path) -> None:
    server = await start(tmp_path)
    try:
        async with ApiClient(server.path) as client:
            assert await client.call("slow", s=IDLE * 2) == "done"  # the clock waits for answers
            await client.call("subscribe", events=["bulletin"])
            await asyncio.sleep(IDLE * 2)
            server.publish("bulletin", {"id": "a"})
            async for event in client.events():
                assert event == {"event": "bulletin", "data": {"id": "a"}}
                break
            assert await client.call("echo", still="here") == {"still": "here"}
    finally:
        await server.close()


async def test_a_subscriber_that_does_not_read_is_dropped(tmp_path: Path) -> None:
    server = await start(tmp_path)
    try:
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        writer.write(b'{"id": 1, "method": "subscribe", "params": {"events": ["bulletin"]}}\n')
        assert "result" in json.loads(await reader.readline())
        assert server.connections
        big = {"text": "ж" * 5000}
        started = time.monotonic()
        while server.connections and time.monotonic() - started < IDLE + 8:
            for _ in range(200):
                server.publish("bulletin", big)
            await asyncio.sleep(0.01)  # lets the writer run; the client never reads
        assert not server.connections, "a non-reading subscriber kept its slot"
        assert time.monotonic() - started < IDLE + 4
        writer.close()
    finally:
        await server.close()


async def test_a_client_that_never_reads_replies_is_dropped(tmp_path: Path) -> None:
    server = await start(tmp_path)
    try:
        _, writer = await asyncio.open_unix_connection(str(server.path))
        request = json.dumps({"id": 1, "method": "echo", "params": {"x": "y" * 60_000}}) + "\n"
        started = time.monotonic()
        writer.write(request.encode())
        await asyncio.sleep(0.05)
        assert server.connections
        while server.connections and time.monotonic() - started < IDLE + 5:
            writer.write(request.encode())  # replies pile up unread on our side
            await asyncio.sleep(0.01)
        assert not server.connections
        assert IDLE <= time.monotonic() - started < IDLE + 4
        writer.close()
    finally:
        await server.close()


async def test_a_newcomer_replaces_the_idlest_client_at_capacity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "EVICT_AFTER", 0.2)
    server = await start(tmp_path, idle=60)
    try:
        held = [await asyncio.open_unix_connection(str(server.path)) for _ in range(64)]
        await asyncio.sleep(0.3)
        assert await answered_within(server.path, 5) < 3  # long before the idle timeout (60 s)
        evicted = json.loads(await asyncio.wait_for(held[0][0].readline(), 2))
        assert evicted["error"] == {"code": "idle", "message": "closed to make room"}
        assert len(server.connections) == 63  # the newcomer has left again; the rest stay
        for _, w in held:
            w.close()
    finally:
        await server.close()


async def test_subscribers_are_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "EVICT_AFTER", 0.0)
    monkeypatch.setattr(api, "MAX_CONNECTIONS", 3)
    server = await start(tmp_path, idle=60)
    try:
        clients = [ApiClient(server.path) for _ in range(3)]
        for client in clients:
            await client.connect()
            await client.call("subscribe")
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        busy = json.loads(await asyncio.wait_for(reader.readline(), 2))
        assert busy["error"]["code"] == "busy"
        writer.close()
        for client in clients:
            assert await client.call("hello") == {"api": 1}
            await client.close()
    finally:
        await server.close()


async def hold_idle_then_ask(socket: Path, within: float) -> float:
    idle = [await asyncio.open_unix_connection(str(socket)) for _ in range(64)]
    try:
        return await answered_within(socket, within)
    finally:
        for _, w in idle:
            w.close()


async def test_running_daemon_answers_despite_64_idle_clients(tmp_path: Path) -> None:
    async with running(tmp_path / "home") as node:  # the default idle timeout (60 s)
        assert node.daemon.api.idle_timeout == api.IDLE_TIMEOUT
        # was: locked out for over a minute
        assert await hold_idle_then_ask(node.socket, 30) < 10


async def test_running_daemon_closes_idle_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JARSHY_API_IDLE", "1")
    async with running(tmp_path / "home") as node:
        reader, writer = await asyncio.open_unix_connection(str(node.socket))
        started = time.monotonic()
        reply = json.loads(await asyncio.wait_for(reader.readline(), 30))
        assert reply["error"]["code"] == "idle" and await reader.read() == b""
        assert 0.9 < time.monotonic() - started < 15  # not 60 s: the setting is read
        writer.close()
