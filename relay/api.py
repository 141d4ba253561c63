"""Local API server: JSON lines on a Unix socket (docs/api.md), one task per connection.

Every read is bounded in bytes (``MAX_REQUEST`` per line; longer lines are discarded up to their
newline) and in time: a connection that sends no complete request within the idle timeout
(``IDLE_TIMEOUT`` seconds, ``JARSHY_API_IDLE`` to change it) and has not subscribed is closed, and
when all ``MAX_CONNECTIONS`` slots are taken a newcomer replaces the longest-idle unsubscribed
client, so idle or trickling clients cannot lock others out (threat model, attack 7).
A malformed request gets an error response and never disturbs the daemon.  Events go out through
a bounded per-connection buffer (a reader that falls behind in a burst loses the oldest); a client
that stops reading is closed when that buffer is full while its socket is backed up, or when a
write cannot be flushed within the idle timeout.  ``mesh`` events coalesce, so a reader only ever
has the latest mesh status pending.
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
IDLE_TIMEOUT = 60.0  # seconds without a complete request before an unsubscribed client is closed
EVICT_AFTER = 1.0  # when all slots are taken, a newcomer replaces a client idle at least this long
COALESCED = frozenset({"mesh"})  # only the latest one matters

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ApiFailure(Exception):
    """Raised by a handler to answer with an error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def idle_timeout_setting() -> float:
    """The idle timeout: ``JARSHY_API_IDLE`` seconds if set and positive, else ``IDLE_TIMEOUT``."""
    try:
        value = float(os.environ.get("JARSHY_API_IDLE", ""))
    except ValueError:
        return IDLE_TIMEOUT
    return value if value > 0 else IDLE_TIMEOUT


class _Connection:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.closed = False
        self.waiting_since: float | None = None  # loop time it began waiting for a request
        self.subscribed: set[str] | None = None
        self.lines: deque[bytes] = deque(maxlen=EVENT_QUEUE)  # full: the oldest goes
        self.latest: dict[str, bytes] = {}  # coalesced events not yet written
        self.ready = asyncio.Event()
        self.lost = 0  # events dropped for a slow reader

    def push(self, event: str, line: bytes) -> None:
        if self.closed:
            return
        if event in COALESCED:
            self.latest[event] = line
        else:
            if len(self.lines) == self.lines.maxlen:
                if self.writer.transport.get_write_buffer_size() > 0:
                    self.abort("event buffer full and the client is not reading")
                    return
                self.lost += 1  # a burst faster than the writer runs: the oldest goes
            self.lines.append(line)
        self.ready.set()

    def evict(self, line: bytes) -> None:
        """Close an idle client after telling it why (a short line; dropped if it reads nothing)."""
        self.closed = True
        log.info("API client closed: idle while all slots were taken")
        with contextlib.suppress(ConnectionError, RuntimeError):
            self.writer.write(line)
        if self.writer.transport.get_write_buffer_size() > 0:
            self.writer.transport.abort()
        else:
            self.writer.close()

    def abort(self, why: str) -> None:
        """Drop a client that does not read: its unread bytes are discarded, not kept."""
        if not self.closed:
            self.closed = True
            log.info("API client closed: %s", why)
            self.lines.clear()
            self.latest.clear()
            self.writer.transport.abort()


class ApiServer:
    """Serves ``handlers`` (method name -> async function of params) on ``path``."""

    def __init__(
        self, path: Path, handlers: dict[str, Handler], idle_timeout: float | None = None
    ) -> None:
        self.path = path
        self.handlers = handlers
        self.idle_timeout = idle_timeout_setting() if idle_timeout is None else idle_timeout
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
            self._evict_idlest()
        if len(self.connections) >= MAX_CONNECTIONS:
            busy = f"too many connections; idle ones are closed after {self.idle_timeout:g} s"
            await self._reply(connection, None, error=("busy", busy))
            writer.close()
            return
        self.connections.add(connection)
        sender = asyncio.create_task(self._drain_events(connection))
        self._tasks.add(sender)
        try:
            while not connection.closed:
                # idle clock: from the last answer to the next complete request, unless subscribed
                idle = self.idle_timeout if connection.subscribed is None else None
                connection.waiting_since = asyncio.get_running_loop().time()
                try:
                    async with asyncio.timeout(idle):
                        line = await _read_request(reader)
                except TimeoutError:
                    message = f"no request within {self.idle_timeout:g} s"
                    await self._reply(connection, None, error=("idle", message))
                    break
                except asyncio.IncompleteReadError:
                    break
                connection.waiting_since = None
                if line is None:
                    await self._reply(connection, None, error=("bad-request", "request too long"))
                    continue
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

    def _evict_idlest(self) -> None:
        """Make room for a newcomer: close the unsubscribed client that has waited longest for
        its next request, if it has waited at least ``EVICT_AFTER`` seconds."""
        now = asyncio.get_running_loop().time()
        idle = [
            (c.waiting_since, c)
            for c in self.connections
            if c.subscribed is None and c.waiting_since is not None and not c.closed
        ]
        if not idle:
            return
        since, idlest = min(idle, key=lambda pair: pair[0])
        if now - since < min(EVICT_AFTER, self.idle_timeout):
            return
        message = {"id": None, "error": {"code": "idle", "message": "closed to make room"}}
        idlest.evict((json.dumps(message) + "\n").encode())
        self.connections.discard(idlest)

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
        if connection.closed:
            return
        with contextlib.suppress(ConnectionError):
            connection.writer.write(data)
            await self._flush(connection)

    async def _flush(self, connection: _Connection) -> None:
        """Wait until the client has taken our bytes; one that takes none for the idle timeout
        is dropped (bounds how long a non-reading client holds a slot and its buffers)."""
        try:
            async with asyncio.timeout(self.idle_timeout):
                await connection.writer.drain()
        except TimeoutError:
            connection.abort(f"did not read for {self.idle_timeout:g} s")

    async def _drain_events(self, connection: _Connection) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:
                await connection.ready.wait()
                connection.ready.clear()
                while connection.lines:
                    connection.writer.write(connection.lines.popleft())
                for name in list(connection.latest):
                    connection.writer.write(connection.latest.pop(name))
                await self._flush(connection)
                if connection.closed:
                    return


EVENTS = ("bulletin", "verdict", "delivery", "link", "mesh")


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request line (at most ``MAX_REQUEST`` bytes), or None for an over-long line, which is
    discarded up to its newline.  Raises IncompleteReadError at the end of the stream."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        await _discard_line(reader)
        return None


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
