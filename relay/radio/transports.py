"""How clients reach an emulated radio: a pseudo-terminal (like USB serial) or a TCP port.

Both can be unplugged and plugged back in, which is how tests provoke what a pulled USB cable or
a lost Wi-Fi link does to the client library. A pty keeps its own slave fd open, so the master
never reads EIO merely because the client closed its first open (the meshtastic library opens the
tty twice). Optionally the pty is reachable through a stable symlink that survives replugging,
as ``/dev/ttyUSB0`` or ``/dev/serial/by-id/...`` does for a real radio.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import socket
import threading
import tty
from functools import partial
from pathlib import Path

from relay.radio.emulator import EmulatedRadio
from relay.radio.session import ClientSession

log = logging.getLogger(__name__)

DEFAULT_TCP_PORT = 4403


class PtyTransport:
    """Serve one radio on a pseudo-terminal; ``path`` is what a client opens."""

    def __init__(self, radio: EmulatedRadio, link: str | Path | None = None) -> None:
        self.radio = radio
        self.link = Path(link) if link is not None else None
        self._master = -1
        self._slave = -1
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._session: ClientSession | None = None
        self.pty_path = ""
        self.plugged = False

    @property
    def path(self) -> str:
        """Device path for clients: the stable symlink if configured, else the pty itself."""
        return str(self.link) if self.link is not None else self.pty_path

    def start(self) -> PtyTransport:
        """Create the pty and start serving (\"plug in\")."""
        self.plug()
        return self

    def plug(self) -> None:
        """Create a fresh pty (and repoint the symlink): the radio appears."""
        if self.plugged:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.pty_path = os.ttyname(slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.pty_path)
            tmp.replace(self.link)
        self._session = ClientSession(self.radio, self._write, f"pty:{self.pty_path}")
        self.radio.add_session(self._session)
        self.plugged = True
        self._thread = threading.Thread(target=self._read_loop, name="pty-reader", daemon=True)
        self._thread.start()

    def _write(self, data: bytes) -> None:
        """Write to the client; drop what does not fit (a UART would overrun)."""
        master = self._master
        if master < 0:
            return
        view = memoryview(data)
        while view:
            try:
                n = os.write(master, view)
            except BlockingIOError:
                ready = select.select([], [master], [], 0.5)[1]
                if not ready:
                    log.debug("pty: client not reading; dropping %d bytes", len(view))
                    return
                continue
            view = view[n:]

    def _read_loop(self) -> None:
        master = self._master
        session = self._session
        assert session is not None
        while True:
            try:
                ready = select.select([master, self._wake_r], [], [])[0]
            except (OSError, ValueError):
                return
            if self._wake_r in ready:
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 64)
                if not self.plugged or self._master != master:
                    return
            if master in ready:
                try:
                    data = os.read(master, 4096)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    if exc.errno == errno.EIO:  # no slave open at the moment
                        continue
                    return
                if not data:
                    continue
                session.feed(data)

    def unplug(self) -> None:
        """Close the pty: the client sees the device vanish, as with a pulled USB cable."""
        if not self.plugged:
            return
        self.plugged = False
        if self._session is not None:
            self.radio.remove_session(self._session)
        master, slave = self._master, self._slave
        self._master = self._slave = -1
        os.write(self._wake_w, b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def close(self) -> None:
        """Unplug for good."""
        self.unplug()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1


class TcpTransport:
    """Serve one radio on a TCP port (firmware's Wi-Fi/Ethernet API).

    Clients may connect at any time; the radio serves one at a time and drops the previous one
    (see :meth:`EmulatedRadio.add_session`), which shuts its socket down as ``client.stop()``
    does in the firmware's ServerAPI.
    """

    def __init__(self, radio: EmulatedRadio, port: int = DEFAULT_TCP_PORT, host: str = "127.0.0.1"):
        self.radio = radio
        self.host = host
        self.port = port
        self._server: socket.socket | None = None
        self._conns: dict[socket.socket, ClientSession] = {}
        self._frozen: set[socket.socket] = set()
        self._deaf: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.plugged = False

    def freeze(self, *, deaf_only: bool = False) -> None:
        """Test hook: the open connections go silent without closing (a half-open TCP
        connection, a radio that hung): nothing is read from or written to them any more; with
        ``deaf_only`` the radio still talks but no longer hears its client (a reboot after which
        the handshake never completes). New connections are served normally."""
        with self._lock:
            self._deaf.update(self._conns)
            if not deaf_only:
                self._frozen.update(self._conns)

    def start(self) -> TcpTransport:
        """Listen (port 0 picks a free port; read ``port`` afterwards)."""
        self.plug()
        return self

    def plug(self) -> None:
        """Listen again on the same port."""
        if self.plugged:
            return
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, self.port))
        server.listen(4)
        self.port = server.getsockname()[1]
        self._server = server
        self.plugged = True
        threading.Thread(
            target=self._accept_loop, args=(server,), name="tcp-accept", daemon=True
        ).start()

    def _accept_loop(self, server: socket.socket) -> None:
        while True:
            try:
                conn, addr = server.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            write_lock = threading.Lock()

            def write(
                data: bytes, conn: socket.socket = conn, lock: threading.Lock = write_lock
            ) -> None:
                if conn in self._frozen:
                    return
                with lock:
                    conn.sendall(data)

            session = ClientSession(
                self.radio, write, f"tcp:{addr[0]}:{addr[1]}", close=partial(_drop, conn)
            )
            with self._lock:
                self._conns[conn] = session
            self.radio.add_session(session)
            threading.Thread(
                target=self._conn_loop, args=(conn, session), name="tcp-conn", daemon=True
            ).start()

    def _conn_loop(self, conn: socket.socket, session: ClientSession) -> None:
        try:
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    break
                if not data:
                    break
                if conn not in self._deaf:
                    session.feed(data)
        finally:
            self.radio.remove_session(session)
            with self._lock:
                self._conns.pop(conn, None)
                self._frozen.discard(conn)
                self._deaf.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def unplug(self) -> None:
        """Stop listening and drop every connection (the radio left the network)."""
        if not self.plugged:
            return
        self.plugged = False
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        """Unplug for good."""
        self.unplug()


def _drop(conn: socket.socket) -> None:
    """Drop one client connection: the client reads end-of-stream."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
