"""Client of the local API (JSON lines over a Unix socket); stdlib only, used by the TUI and CLI.

async with ApiClient(path) as api:
    status = await api.call("status")
    await api.call("subscribe")
    async for event in api.events():
        ...

To ride out daemon restarts, ``connect(path, retry_for=...)`` waits for a daemon to answer, and
``sessions(path)`` yields a fresh connected client each time the daemon is back:

async for api in sessions(path):
    await api.call("subscribe")
    async for event in api.events():   # ends when the daemon goes away; then we reconnect
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

MAX_LINE = 4 << 20  # responses with many bulletins can be long


class ApiError(Exception):
    """An error response from the daemon."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NoDaemon(ConnectionError):
    """Nothing answers on the socket."""


class ApiClient:
    """One connection to the daemon; requests may run concurrently."""

    def __init__(self, path: str | Path, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=10_000)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    async def __aenter__(self) -> ApiClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(
                self.path, limit=MAX_LINE
            )
        except (FileNotFoundError, ConnectionRefusedError, OSError) as exc:
            raise NoDaemon(f"no daemon at {self.path}") from exc
        self._task = asyncio.create_task(self._read_loop())

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.closed.set()

    async def call(self, method: str, **params: Any) -> Any:
        """Send one request and wait for its result (raises ApiError or NoDaemon)."""
        if self._writer is None or self.closed.is_set():
            raise NoDaemon(f"not connected to {self.path}")
        ident = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        line = json.dumps({"id": ident, "method": method, "params": params}, ensure_ascii=False)
        try:
            self._writer.write(line.encode() + b"\n")
            await self._writer.drain()
            return await asyncio.wait_for(future, self.timeout)
        except (ConnectionError, BrokenPipeError) as exc:
            raise NoDaemon(f"lost the daemon at {self.path}") from exc
        finally:
            self._waiting.pop(ident, None)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Events after ``subscribe``; ends when the connection closes."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if "event" in message:
                    if self._events.full():
                        self._events.get_nowait()
                    self._events.put_nowait(message)
                    continue
                future = self._waiting.get(message.get("id"))
                if future is None or future.done():
                    continue
                if "error" in message:
                    error = message["error"] or {}
                    future.set_exception(
                        ApiError(str(error.get("code")), str(error.get("message")))
                    )
                else:
                    future.set_result(message.get("result"))
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(NoDaemon(f"lost the daemon at {self.path}"))
            with contextlib.suppress(asyncio.QueueFull):
                self._events.put_nowait(None)
            self.closed.set()


def daemon_answers(path: str | Path) -> bool:
    """True if something is listening on the Unix socket ``path`` (a live daemon)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


async def connect(
    path: str | Path, retry_for: float = 0.0, timeout: float = 30.0, backoff: float = 0.25
) -> ApiClient:
    """A connected client; while no daemon answers, retry with back-off for ``retry_for`` s."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + retry_for
    delay = backoff
    while True:
        client = ApiClient(path, timeout)
        try:
            await client.connect()
            return client
        except NoDaemon:
            if loop.time() + delay > give_up:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def sessions(
    path: str | Path, timeout: float = 30.0, backoff: float = 0.5, max_backoff: float = 10.0
) -> AsyncGenerator[ApiClient, None]:
    """Connected clients, one per daemon lifetime, forever (stop by breaking out of the loop).

    Each client is closed when the loop body returns to us; the next one comes when the daemon
    answers again, with exponential back-off between attempts (reset after a connection)."""
    delay = backoff
    while True:
        client = ApiClient(path, timeout)
        try:
            await client.connect()
        except NoDaemon:
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff)
            continue
        delay = backoff
        try:
            yield client
        finally:
            await client.close()
        await asyncio.sleep(backoff)
