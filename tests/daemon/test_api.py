"""The API server and client on real Unix sockets, in process: bounds, events, socket hygiene."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest

from relay import api
from relay.api import ApiFailure, ApiServer, Handler
from relay.api_client import ApiClient, ApiError, NoDaemon, connect, sessions
from relay.errors import UserError


def short_path(tmp_path: Path) -> Path:
    return tmp_path / "a.sock"  # Unix socket paths are limited to ~107 bytes


def handlers() -> dict[str, Handler]:
    gate = asyncio.Event()

    async def echo(params: dict[str, Any]) -> Any:
        return params

    async def fail(params: dict[str, Any]) -> Any:
        if params.get("how") == "api":
            raise ApiFailure("not-found", "nothing here")
        if params.get("how") == "key":
            return {}["missing"]  # a handler's own KeyError is a bug, not the client's fault
        raise RuntimeError("a bug")

    async def wait(params: dict[str, Any]) -> Any:
        await gate.wait()
        return "done"

    async def release(params: dict[str, Any]) -> Any:
        gate.set()
        return "released"

    return {"echo": echo, "fail": fail, "wait": wait, "release": release}


async def start(path: Path) -> ApiServer:
    server = ApiServer(path, handlers())
    await server.start()
    return server


async def next_event(client: ApiClient, timeout: float = 5.0) -> dict[str, Any] | None:
    async def first() -> dict[str, Any] | None:
        async for event in client.events():
            return event
        return None

    try:
        return await asyncio.wait_for(first(), timeout)
    except TimeoutError:
        return None


async def test_socket_is_private_and_stale_sockets_are_replaced(tmp_path: Path) -> None:
    path = short_path(tmp_path)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # bound, never listening: what a killed daemon leaves behind
    stale.close()
    server = await start(path)
    try:
        assert path.stat().st_mode & 0o777 == 0o600
        with pytest.raises(UserError, match="already serving"):
            await start(path)  # a live server answers: refuse, and leave its socket alone
        async with ApiClient(path) as client:
            assert await client.call("echo", a=1) == {"a": 1}
    finally:
        await server.close()
    assert not path.exists()


async def test_errors_are_answers_and_the_connection_lives_on(tmp_path: Path) -> None:
    server = await start(short_path(tmp_path))
    try:
        async with ApiClient(server.path) as client:
            with pytest.raises(ApiError) as failure:
                await client.call("fail", how="api")
            assert failure.value.code == "not-found"
            with pytest.raises(ApiError) as bug:
                await client.call("fail")
            assert bug.value.code == "internal" and "a bug" not in bug.value.message
            with pytest.raises(ApiError) as own:
                await client.call("fail", how="key")
            assert own.value.code == "internal"  # never hidden as "bad-params"
            with pytest.raises(ApiError) as unknown:
                await client.call("nope")
            assert unknown.value.code == "unknown-method"
            reader, writer = await asyncio.open_unix_connection(str(server.path))
            writer.write(b'{"id": 1, "method": "echo", "params": [1]}\n' + b"\xff\xfe\n")
            writer.write(b'{"id": 7, "method": "subscribe", "params": {"events": [[1]]}}\n')
            writer.write(b"[" * 30_000 + b"]" * 30_000 + b"\n")  # nesting bomb within the limit
            writer.write(b"x" * (api.MAX_REQUEST * 3) + b'\n{"id": 2, "method": "echo"}\n')
            replies = [json.loads(await reader.readline()) for _ in range(6)]
            writer.close()
            assert [r.get("error", {}).get("code") for r in replies] == [
                "bad-params", "bad-request", None, "bad-request", "bad-request", None,
            ]  # fmt: skip
            assert replies[-1] == {"id": 2, "result": {}}
            assert await client.call("echo", still="here") == {"still": "here"}
    finally:
        await server.close()


async def test_mesh_events_coalesce_and_others_do_not(tmp_path: Path) -> None:
    server = await start(short_path(tmp_path))
    try:
        async with ApiClient(server.path) as client:
            assert await client.call("subscribe", events=["mesh", "bulletin", "bogus"]) == {
                "subscribed": ["bulletin", "mesh"]
            }
            for n in range(10):  # all before the connection's writer runs
                server.publish("mesh", {"n": n})
            server.publish("bulletin", {"id": "a"})
            server.publish("bulletin", {"id": "b"})
            server.publish("link", {"state": "up"})  # not subscribed
            got = [await next_event(client) for _ in range(3)]
            assert got == [
                {"event": "bulletin", "data": {"id": "a"}},
                {"event": "bulletin", "data": {"id": "b"}},
                {"event": "mesh", "data": {"n": 9}},
            ]
            assert await next_event(client, timeout=0.3) is None
    finally:
        await server.close()


async def test_connections_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "MAX_CONNECTIONS", 2)
    server = await start(short_path(tmp_path))
    try:
        async with ApiClient(server.path) as one, ApiClient(server.path) as two:
            assert await one.call("echo") == {} and await two.call("echo") == {}
            reader, writer = await asyncio.open_unix_connection(str(server.path))
            reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
            assert reply["error"]["code"] == "busy"
            assert await asyncio.wait_for(reader.read(), 5) == b""  # and closed
            writer.close()
        async with ApiClient(server.path) as three:  # room again once others leave
            assert await three.call("echo") == {}
    finally:
        await server.close()


async def test_requests_on_one_connection_do_not_block_another(tmp_path: Path) -> None:
    server = await start(short_path(tmp_path))
    try:
        async with ApiClient(server.path) as waiting, ApiClient(server.path) as other:
            pending = asyncio.create_task(waiting.call("wait"))
            assert await other.call("echo", x=1) == {"x": 1}
            assert await other.call("release") == "released"  # while the first still waits
            assert await asyncio.wait_for(pending, 10) == "done"
    finally:
        await server.close()


async def test_client_waits_for_a_daemon_and_reconnects(tmp_path: Path) -> None:
    path = short_path(tmp_path)
    with pytest.raises(NoDaemon):
        await connect(path)

    async def late_server() -> ApiServer:
        await asyncio.sleep(0.3)
        return await start(path)

    server_task = asyncio.create_task(late_server())
    client = await connect(path, retry_for=10)
    server = await server_task
    assert await client.call("echo", n=1) == {"n": 1}
    await server.close()
    with pytest.raises(NoDaemon):
        await client.call("echo")
    await client.close()

    seen: list[Any] = []
    restarted: list[ApiServer] = [await start(path)]

    async def ride(it: AsyncGenerator[ApiClient, None]) -> None:
        async with contextlib.aclosing(it):
            async for session in it:
                seen.append(await session.call("echo", session=len(seen)))
                if len(seen) == 2:
                    return
                await restarted[-1].close()  # the daemon goes away ...
                restarted.append(await start(path))  # ... and comes back

    try:
        await asyncio.wait_for(ride(sessions(path, backoff=0.05)), 10)
    finally:
        await restarted[-1].close()
    assert seen == [{"session": 0}, {"session": 1}]
