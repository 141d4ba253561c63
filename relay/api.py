"""Local API server: JSON lines on a Unix socket (docs/api.md), one task per connection.

Every read is bounded (``MAX_REQUEST`` bytes per line; longer lines are discarded up to their
newline); a malformed request gets an error response and never disturbs the daemon.  Events go
out through a bounded per-connection buffer (a slow reader loses the oldest); ``mesh`` events
coalesce, so a reader only ever has the latest mesh status pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from relay.api_client import daemon_answers
from relay.errors import UserError

log = logging.getLogger("jarshy.api")

MAX_REQUEST = 65_536
EVENT_QUEUE = 1000
MAX_CONNECTIONS = 64
COALESCED = frozenset({"mesh"})  # only the latest one matters

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ApiFailure(Exception):
    """Raised by a handler to answer with an error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Connection:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.subscribed: set[str] | None = None
        self.lines: deque[bytes] = deque(maxlen=EVENT_QUEUE)  # full: the oldest goes
        self.latest: dict[str, bytes] = {}  # coalesced events not yet written
        self.ready = asyncio.Event()
        self.lost = 0  # events dropped for a slow reader

    def push(self, event: str, line: bytes) -> None:
        if event in COALESCED:
            self.latest[event] = line
        else:
            if len(self.lines) == self.lines.maxlen:
                self.lost += 1
            self.lines.append(line)
        self.ready.set()


class ApiServer:
    """Serves ``handlers`` (method name -> async function of params) on ``path``."""

    def __init__(self, path: Path, handlers: dict[str, Handler]) -> None:
        self.path = path
        self.handlers = handlers
        self.connections: set[_Connection] = set()
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self.path.exists():
            if daemon_answers(self.path):
                raise UserError(f"another daemon is already serving {self.path}")
            self.path.unlink()  # stale socket from a daemon that died
        self.path.parent.mkdir(parents=True, exist_ok=True)
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_REQUEST
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        """Stop accepting, then close every connection (answered requests are committed)."""
        if self._server is None:
            return
        self._server.close()
        self._server = None
        for connection in list(self.connections):
            connection.writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def publish(self, event: str, data: Any) -> None:
        """Send an event to every connection subscribed to it (slow readers lose the oldest)."""
        if not self.connections:
            return
        line = (json.dumps({"event": event, "data": data}, ensure_ascii=False) + "\n").encode()
        for connection in self.connections:
            if connection.subscribed is not None and event in connection.subscribed:
                connection.push(event, line)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(writer)
        if len(self.connections) >= MAX_CONNECTIONS:
            await self._reply(connection, None, error=("busy", "too many connections"))
            writer.close()
            return
        self.connections.add(connection)
        sender = asyncio.create_task(self._drain_events(connection))
        self._tasks.add(sender)
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.LimitOverrunError:
                    await _discard_line(reader)
                    await self._reply(connection, None, error=("bad-request", "request too long"))
                    continue
                except asyncio.IncompleteReadError:
                    break
                try:
                    await self._handle_line(connection, line)
                except Exception:  # a request must never take its connection down
                    log.exception("API request failed")
                    await self._reply(connection, None, error=("internal", "internal error"))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.connections.discard(connection)
            sender.cancel()
            self._tasks.discard(sender)
            writer.close()

    async def _handle_line(self, connection: _Connection, line: bytes) -> None:
        try:
            request = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
            await self._reply(connection, None, error=("bad-request", "not valid JSON"))
            return
        if not isinstance(request, dict):
            await self._reply(connection, None, error=("bad-request", "a request is an object"))
            return
        ident = request.get("id")
        if not isinstance(ident, int | str) or isinstance(ident, bool):
            ident = None
        method = request.get("method")
        params = request.get("params", {})
        if not isinstance(params, dict):
            await self._reply(connection, ident, error=("bad-params", "params must be an object"))
            return
        if method == "subscribe":
            wanted = params.get("events")
            names = (
                {n for n in wanted if isinstance(n, str)}
                if isinstance(wanted, list)
                else set(EVENTS)
            )
            connection.subscribed = {n for n in names if n in EVENTS}
            await self._reply(
                connection, ident, result={"subscribed": sorted(connection.subscribed)}
            )
            return
        handler = self.handlers.get(method) if isinstance(method, str) else None
        if handler is None:
            await self._reply(connection, ident, error=("unknown-method", f"no method {method!r}"))
            return
        try:
            result = await handler(params)
        except ApiFailure as exc:
            await self._reply(connection, ident, error=(exc.code, str(exc)))
        except UserError as exc:
            await self._reply(connection, ident, error=("bad-params", str(exc)))
        except (TypeError, ValueError, KeyError) as exc:
            await self._reply(connection, ident, error=("bad-params", str(exc)))
        except Exception:
            log.exception("API method %s failed", method)
            await self._reply(connection, ident, error=("internal", "internal error; see the log"))
        else:
            await self._reply(connection, ident, result=result)

    async def _reply(
        self,
        connection: _Connection,
        ident: Any,
        result: Any = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        message: dict[str, Any] = {"id": ident}
        if error is not None:
            message["error"] = {"code": error[0], "message": error[1]}
        else:
            message["result"] = result
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode()
        with contextlib.suppress(ConnectionError):
            connection.writer.write(data)
            await connection.writer.drain()

    async def _drain_events(self, connection: _Connection) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:
                await connection.ready.wait()
                connection.ready.clear()
                while connection.lines:
                    connection.writer.write(connection.lines.popleft())
                for name in list(connection.latest):
                    connection.writer.write(connection.latest.pop(name))
                await connection.writer.drain()


EVENTS = ("bulletin", "verdict", "delivery", "link", "mesh")


async def _discard_line(reader: asyncio.StreamReader) -> None:
    """Skip the rest of an over-long line (bounded chunks, never buffered whole)."""
    while True:
        try:
            await reader.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
        except asyncio.IncompleteReadError:
            return
