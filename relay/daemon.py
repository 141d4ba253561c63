"""The daemon: one asyncio process that owns the radio and the store.

radio (RadioLink) -> sync engine -> ingest pipeline -> store -> local API, and back out through the
transmit queue inside the airtime budget.  Every ingest path (radio, API publish) goes through
relay.ingest.Ingest.  With no radio address the daemon runs on the simulated mesh.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import time
from collections import deque
from pathlib import Path
from typing import Any

from relay import paths
from relay.api import ApiServer
from relay.errors import UserError
from relay.ingest import Ingest
from relay.node.core import (
    BulletinHeld,
    Delivery,
    DeliveryChanged,
    ForgeryHeard,
    NodeCore,
    Output,
    Rejected,
    VerdictChanged,
)
from relay.radio.link import RadioLink
from relay.radio.linktypes import LinkState
from relay.radio_quarantine import RadioQuarantine
from relay.shutdown import shutdown_watchdog
from relay.store import Store
from relay.sync.engine import SyncEngine
from relay.sync.events import PacketReceived
from relay.transmit import About, Transmitter
from relay.trust import Verdict

log = logging.getLogger("jarshy.daemon")


class Daemon:
    """Wires radio, engine, ingest, store, queue and API together."""

    def __init__(
        self, radio: str | None = None, socket_path: Path | None = None, simulate: bool = False
    ) -> None:
        self.simulate = simulate or radio is None
        self.radio_address = radio
        self.socket_path = socket_path or paths.socket_path()
        name = "simulated.sqlite3" if self.simulate else "jarshy.sqlite3"
        self.store_path = paths.home() / name
        self.store: Store | None = None
        self.core: NodeCore | None = None  # ingest, trust, sync engine, deliveries (relay.node)
        self.link: RadioLink | None = None
        self.quarantine = RadioQuarantine(
            lambda: self.link, self.store_path.with_suffix(".ignored.json")
        )
        # the budget runs on the loop's monotonic clock (asyncio's loop.time() is time.monotonic)
        self.transmitter = Transmitter(self._about, self._on_sent, time.monotonic, time.time)
        self.queue = self.transmitter.queue
        self.forgeries: deque[dict[str, Any]] = deque(maxlen=100)
        self.unlocked: dict[str, Any] = {}
        self.link_state = LinkState.CONNECTING
        self.stop = asyncio.Event()
        self._wake = asyncio.Event()  # the engine loop's
        self._lock_file: Any = None
        self.api: ApiServer | None = None
        self.simulation: Any = None
        self.started_at = time.time()
        self._rejudging = False

    @property
    def ingest(self) -> Ingest | None:
        return None if self.core is None else self.core.ingest

    @property
    def engine(self) -> SyncEngine | None:
        return None if self.core is None else self.core.engine

    @property
    def deliveries(self) -> dict[bytes, Delivery]:
        return {} if self.core is None else self.core.deliveries

    # -- lifecycle ----------------------------------------------------------------------------

    def acquire_lock(self) -> None:
        """One daemon per home: never two on one store or one radio."""
        lock_path = paths.home() / "daemon.lock"
        self._lock_file = open(lock_path, "a+")  # noqa: SIM115 - held for the daemon's life
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UserError(f"another jarshy daemon is running for {paths.home()}") from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()

    async def run(self) -> int:
        """Run until SIGINT/SIGTERM (a second one forces); returns the exit code.

        Whatever was opened is closed again if a later step fails (e.g. another daemon serves
        the socket), so a refused start leaves no socket, radio or thread behind."""
        from relay.daemon_api import handlers
        from relay.radio.linktypes import parse_address

        if self.radio_address is not None:
            parse_address(self.radio_address)  # ValueError before anything is opened
        self.acquire_lock()
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(self._release_lock)
            self.store = store = Store(self.store_path)
            stack.callback(store.close)
            self.core = core = NodeCore(store, seed=int.from_bytes(os.urandom(4), "big"))
            self.api = api = ApiServer(self.socket_path, handlers(self))
            await api.start()  # refuses when another daemon answers on this socket
            stack.push_async_callback(api.close)
            if self.simulate:
                from relay.simulated import DEMO_NEWSROOM, SimulatedMesh

                self.simulation = SimulatedMesh()
                stack.push_async_callback(self.simulation.close)
                self.radio_address = self.simulation.start()
                if not store.roots():
                    core.ingest.add_root(DEMO_NEWSROOM.public_key, DEMO_NEWSROOM.name, time.time())
            self._learn_own_keys()
            core.load(*self._now())
            self._rejudge_soon()  # verdicts stored under older trust rules
            self._install_signals()
            log.info("daemon up: radio %s, socket %s", self.radio_address, self.socket_path)
            assert self.radio_address is not None
            self.link = link = RadioLink(
                self.radio_address, on_packet=self._on_packet, on_state=self._on_state,
                require_up=False,
            )  # fmt: skip
            self.transmitter.link = link
            await link.__aenter__()
            stack.push_async_callback(_close_link, link)
            if self.simulation is not None:
                self.simulation.run_publishers()
            tasks = [
                asyncio.create_task(self._engine_loop()),
                asyncio.create_task(self.transmitter.run()),
                asyncio.create_task(self._status_loop()),
            ]
            stack.push_async_callback(_cancel, tasks)
            stack.push_async_callback(self.quarantine.close)
            await self.stop.wait()
            # In order: stop taking requests (each one answered is already committed), then
            # (unwinding the stack) stop the loops, let go of the radio, the simulation, the store.
            log.info("shutting down")
            watchdog = shutdown_watchdog(asyncio.get_running_loop())
            await api.close()
        watchdog.cancel()  # shut down in time: nothing left for it to end
        log.info("stopped")
        return 0

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _learn_own_keys(self) -> None:
        """Our identities' public keys (readable without a passphrase): our bulletins verify."""
        from relay.crypto.keystore import Keystore

        assert self.ingest is not None
        for info in Keystore().list():
            if info.key_id not in self.ingest.state.keys:
                self.ingest.learn_key(info.public_key, time.time())

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if self.stop.is_set():
                log.warning("second signal: exiting now")
                os._exit(1)
            self.stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal)

    # -- radio side ---------------------------------------------------------------------------

    def _on_state(self, state: LinkState) -> None:
        self.link_state = state
        if state is LinkState.UP and self.link is not None and self.link.info is not None:
            assert self.core is not None
            self.core.link_up(self.link.info.node_num, self.link.info.role)
            self.transmitter.radio_changed()
        if state is LinkState.UP:
            self.quarantine.link_up()
        if self.api is not None:
            self.api.publish("link", self.link_status())
        self._wake.set()
        self.transmitter.wake.set()

    def _on_packet(self, event: PacketReceived) -> None:
        assert self.core is not None
        self._emit(self.core.receive(event, *self._now()))

    @staticmethod
    def _now() -> tuple[float, float]:
        """(monotonic, wall): timers run on the loop's clock, signed times on the wall's."""
        return asyncio.get_running_loop().time(), time.time()

    def _emit(self, out: Output) -> None:
        """Carry out what the node core decided: transmit, tell readers, ignore radios."""
        if out.sends:
            self._enqueue(out.sends)
        if out.ignores:
            self.quarantine.apply(out.ignores)
        for notice in out.notices:
            if isinstance(notice, BulletinHeld):
                self._forget_forgery(notice.id)  # the genuine copy arrived after a junk one
                self._announce(notice.id)
            elif isinstance(notice, ForgeryHeard):
                self._note_forgery(notice)
            elif self.api is None:
                continue
            elif isinstance(notice, VerdictChanged):
                verdict = notice.verdict
                change = {"id": notice.id.hex(), "status": str(verdict.status)}
                change.update(reason=verdict.reason, signer_name=verdict.name or "")
                self.api.publish("verdict", change)
            elif isinstance(notice, DeliveryChanged):
                self.api.publish("delivery", notice.delivery.as_dict(notice.id))
        self._rejudge_soon()

    def verdicts_changed(self, changed: tuple[tuple[bytes, Verdict], ...]) -> None:
        """Verdicts changed by an operator action (trust add/remove, import): carry them out."""
        assert self.core is not None
        self._emit(self.core.changed(changed, *self._now()))

    def _forget_forgery(self, ident: bytes) -> None:
        kept = [f for f in self.forgeries if f["id"] != ident.hex()]
        if len(kept) != len(self.forgeries):
            self.forgeries.clear()
            self.forgeries.extend(kept)

    def _note_forgery(self, heard: ForgeryHeard) -> None:
        """Keep recent forgeries in memory (never stored, never relayed) so readers see them."""
        from relay.daemon_api import forgery_json

        entry = forgery_json(heard.bulletin, heard.reason, heard.at, heard.hops, heard.snr)
        if any(f["id"] == entry["id"] for f in self.forgeries):
            return
        self.forgeries.append(entry)
        if self.api is not None:
            self.api.publish("bulletin", entry)

    def _rejudge_soon(self) -> None:
        """Re-judge waiting verdicts in slices between packets, never in one long stall."""
        if self._rejudging or self.core is None or not self.core.backlog:
            return
        self._rejudging = True
        asyncio.get_running_loop().call_soon(self._rejudge_slice)

    def _rejudge_slice(self) -> None:
        self._rejudging = False
        if self.core is None:
            return
        try:
            out = self.core.rejudge(*self._now())
        except Exception:  # a damaged row must not stop the node; the next slice goes on
            log.exception("re-judging stored verdicts failed")
            return
        self._emit(out)  # schedules the next slice while a backlog remains

    def _announce(self, ident: bytes) -> None:
        from relay.daemon_api import bulletin_json

        assert self.store is not None
        row = self.store.get(ident)
        if row is not None and self.api is not None:
            self.api.publish("bulletin", bulletin_json(row, self.deliveries.get(ident)))

    def _enqueue(self, sends: list[Any]) -> None:
        self.transmitter.submit(sends)
        self._wake.set()  # the engine's next deadline may have moved

    def _about(self, ident: bytes) -> About | None:
        """What the transmit queue needs about a stored bulletin: age, expiry, author."""
        row = self.store.get(ident) if self.store is not None else None
        return None if row is None else About(row.created, row.expires_at, row.author)

    def _on_sent(self, ident: bytes) -> None:
        if self.core is not None:
            self._emit(self.core.sent(ident))

    def radio_preset(self) -> str:
        return self.transmitter.preset

    async def _engine_loop(self) -> None:
        assert self.core is not None
        core = self.core
        while True:
            deadline = core.next_deadline()
            delay = 30.0 if deadline is None else max(0.0, deadline - self._now()[0])
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as the event is set, and the loop would outlive shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(delay, 30.0)):
                    await self._wake.wait()
            try:
                self._emit(core.tick(*self._now()))
            except Exception:  # keep the node up; the engine is tested apart
                log.exception("sync engine tick failed")

    async def _status_loop(self) -> None:
        from relay.daemon_api import status

        rounds = 0
        while True:
            await asyncio.sleep(5.0)
            rounds += 1
            if rounds % 120 == 0 and self.core is not None:  # every 10 minutes
                self.core.expire_untrusted(time.time())
            self.transmitter.radio_changed()
            if self.api is not None:
                self.api.publish("mesh", status(self))

    # -- publishing -----------------------------------------------------------------------------

    def publish_local(self, raw: bytes) -> tuple[bytes, int]:
        """Ingest and transmit one of our own bulletins; returns its id and packet count."""
        assert self.core is not None
        self._learn_own_keys()
        try:
            ident, out = self.core.publish(raw, *self._now())
        except Rejected as exc:
            from relay.api import ApiFailure

            raise ApiFailure("rejected", str(exc)) from None
        self._emit(out)
        return ident, len(out.sends)

    def after_import(self, result: Any) -> None:
        """A bulletin taken in from a bundle: relay it if trusted, tell subscribers."""
        assert self.core is not None
        self._emit(self.core.taken_in(result, *self._now()))

    def link_status(self) -> dict[str, Any]:
        return {
            "state": self.link_state.value,
            "address": self.radio_address,
            "simulated": self.simulate,
            "ignored_radios": self.quarantine.status(),
        }


async def _close_link(link: RadioLink) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(link.__aexit__(None, None, None), 10)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
