"""The daemon: the thin asyncio shell that drives one node core with one radio and one store.

radio (RadioLink) -> node core (relay.node) -> store -> local API events, and back out through the
transmit queue inside the airtime budget.  The shell decides nothing: it moves events into the
node core and carries out its :class:`~relay.node.core.Output`.

A :class:`Daemon` is built from its parts (paths, keystore, store, a radio address with a factory
for its link, clocks), each one existing from construction on, so a test builds one on a temporary
directory and a simulated mesh without environment variables.  relay.daemon_open opens those parts
in order for `jarshy daemon`.  The core's timers run on the monotonic clock; the shell wakes it with
``loop.call_at`` at its next deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from relay.api import ApiServer
from relay.bridge.core import Take
from relay.bridge.gateway import offer_held, offer_row, take_in
from relay.bridge.settings import BridgeSettings
from relay.crypto.keys import Identity
from relay.crypto.keystore import Keystore
from relay.daemon_api import handlers
from relay.daemon_mirror import mirror_offer, mirror_status, run_mirror
from relay.daemon_views import bulletin_json, forgery_json, status_view
from relay.ingest import Changes, Ingest, IngestResult
from relay.node.core import (
    BulletinHeld,
    Delivery,
    DeliveryChanged,
    ForgeryHeard,
    NodeCore,
    Output,
    VerdictChanged,
)
from relay.node.mirror import Mirror
from relay.paths import Paths
from relay.radio.link import RadioLink
from relay.radio.linktypes import LinkState, PacketAcked, TextHeard
from relay.radio_quarantine import RadioQuarantine
from relay.shutdown import shutdown_watchdog, stop_on_signals
from relay.store import Store
from relay.sync.events import PacketReceived, SendPacket
from relay.transmit import About, Transmitter
from relay.wire.fragments import carried_id

if TYPE_CHECKING:
    from relay.bridge.link import BridgeLink

log = logging.getLogger("jarshy.daemon")

MAX_IDLE = 30.0  # seconds: the core is woken at least this often, deadline or not
OnPacket = Callable[[PacketReceived], None]
OnState = Callable[[LinkState], None]
LinkFactory = Callable[[str, OnPacket, OnState], RadioLink]  # (address, on_packet, on_state)


@dataclass(frozen=True, slots=True)
class Clocks:
    """``monotonic`` runs every timer (asyncio's loop clock is ``time.monotonic``); ``wall`` is
    for signed timestamps, receive times and what people read."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time


class Simulation(Protocol):
    """The simulated mesh as the daemon drives it (relay.simulated.SimulatedMesh)."""

    def run_publishers(self) -> None: ...

    async def close(self) -> None: ...


class Releasable(Protocol):
    def release(self) -> None: ...


def radio_link(address: str, on_packet: OnPacket, on_state: OnState) -> RadioLink:
    """The real link: reconnects by itself, and the daemon stays up while the radio is away."""
    return RadioLink(address, on_packet=on_packet, on_state=on_state, require_up=False)


class Daemon:
    """Moves events between the radio link, the node core, the transmit queue and the API."""

    def __init__(
        self,
        paths: Paths,
        keystore: Keystore,
        store: Store,
        radio: str,
        *,
        link: LinkFactory = radio_link,
        simulation: Simulation | None = None,
        clocks: Clocks | None = None,
        lock: Releasable | None = None,
        seed: int | None = None,
        mirror: bool = False,
        bridge: BridgeSettings | None = None,
    ) -> None:
        self.paths = paths
        self.keystore = keystore
        self.store = store
        self.radio_address = radio
        self.simulation = simulation
        self.clocks = clocks or Clocks()
        self._lock = lock  # released when the daemon has shut down
        seed = int.from_bytes(os.urandom(4), "big") if seed is None else seed
        self.core = NodeCore(store, seed=seed)  # ingest, trust, sync engine, deliveries
        self.link = link(radio, self._on_packet, self._on_state)
        # What the radio later says about a broadcast (a neighbour relayed it: "heard"), and the
        # texts other radios send on channel 0 (the mirror's suppression); the link asks for
        # want_ack on flooded broadcasts once someone listens to its ACKs.
        self.link.on_acked = self._on_acked
        self.link.ack_relayed = True
        self.link.on_text = self._on_text
        self.mirror = Mirror(seed, enabled=mirror)  # the phone-app mirror (relay.daemon_mirror)
        self.bridge: BridgeLink | None = None  # the MQTT bridge between meshes (docs/bridge.md)
        if bridge is not None:  # imported only here: the MQTT client costs a Pi ~12 MB
            from relay.bridge.link import BridgeLink

            self.bridge = BridgeLink(bridge, self._from_bridge, wall=self.clocks.wall,
                                     monotonic=self.clocks.monotonic, seed=seed,
                                     heard=self._on_packet, batch=store.batch)  # fmt: skip
        self.link_state = LinkState.CONNECTING
        self.quarantine = RadioQuarantine(
            lambda: self.link, paths.ignored(self.simulate), wall=self.clocks.wall
        )
        self.transmitter = Transmitter(
            self._about, self._on_sent, self.clocks.monotonic, self.clocks.wall
        )
        self.transmitter.link = self.link
        self.queue = self.transmitter.queue
        self.api = ApiServer(paths.socket, handlers(self))
        self.forgeries: deque[dict[str, Any]] = deque(maxlen=100)
        self.unlocked: dict[str, Identity] = {}
        self.stop = asyncio.Event()  # set it to shut down (SIGINT/SIGTERM do)
        self.started = asyncio.Event()  # the API answers and the radio link is opening
        self.started_at = self.clocks.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._rejudging = False
        self._mirror_wake = asyncio.Event()

    @property
    def simulate(self) -> bool:
        return self.simulation is not None

    @property
    def ingest(self) -> Ingest:
        return self.core.ingest

    @property
    def deliveries(self) -> dict[bytes, Delivery]:
        return self.core.deliveries

    def wall(self) -> float:
        return self.clocks.wall()

    # -- lifecycle ----------------------------------------------------------------------------

    async def run(self, signals: bool = True) -> int:
        """Serve until :attr:`stop` is set (SIGINT/SIGTERM with ``signals``; a second one
        forces); returns the exit code.  Everything the daemon owns is closed when it returns,
        also when a step fails half way (e.g. another daemon serves the socket)."""
        self._loop = loop = asyncio.get_running_loop()
        watchdog = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                stack.push_async_callback(self._close_owned)
                await self.api.start()  # refuses when another daemon answers on this socket
                stack.push_async_callback(self.api.close)
                self._learn_own_keys()
                self.core.load(*self._now())
                self._rejudge_soon()  # verdicts stored under older trust rules
                if signals:
                    stack.callback(stop_on_signals(loop, self.stop))
                log.info("daemon up: radio %s, socket %s", self.radio_address, self.paths.socket)
                await self.link.__aenter__()
                stack.push_async_callback(_close_link, self.link)
                if self.simulation is not None:
                    self.simulation.run_publishers()
                tasks = [
                    asyncio.create_task(self.transmitter.run()),
                    asyncio.create_task(self._status_loop()),
                ]
                if self.mirror.enabled:
                    mirror = run_mirror(self.mirror, self.link, self.queue, self.clocks.monotonic,
                                        self.radio_preset, self._mirror_wake)  # fmt: skip
                    tasks.append(asyncio.create_task(mirror))
                if self.bridge is not None:
                    offer_held(self.bridge, self.store, self.wall())
                    tasks.append(asyncio.create_task(self.bridge.run()))
                self._arm()
                stack.callback(self._disarm)
                stack.push_async_callback(_cancel, tasks)
                stack.push_async_callback(self.quarantine.close)
                self.started.set()
                await self.stop.wait()
                # In order: stop taking requests (each one answered is already committed), then
                # (unwinding the stack) stop the loops, let go of the radio, the simulation, the
                # store and the lock.
                log.info("shutting down")
                watchdog = shutdown_watchdog(loop)
                await self.api.close()
        finally:
            if watchdog is not None:
                watchdog.cancel()  # shut down in time: nothing left for it to end
        log.info("stopped")
        return 0

    async def _close_owned(self) -> None:
        self._disarm()
        if self.simulation is not None:
            await self.simulation.close()
        self.store.close()
        if self._lock is not None:
            self._lock.release()

    def _learn_own_keys(self) -> None:
        """Our identities' public keys (readable without a passphrase) are trusted roots named
        after them, from the start: our own bulletins read as trusted (a revoked one stays
        revoked: its revocation is evidence the graph applies)."""
        roots = {key_id for key_id, _, _ in self.store.roots()}
        for info in self.keystore.list():
            if info.key_id not in roots:
                self.ingest.add_root(info.public_key, info.name, self.wall())

    # -- the node core's timer ------------------------------------------------------------------

    def _arm(self) -> None:
        """Wake the core at its next deadline (at the latest in ``MAX_IDLE`` s): ``call_at``."""
        loop = self._loop
        if loop is None:  # not running (yet, or any more)
            return
        now = self.clocks.monotonic()
        try:
            deadline = self.core.next_deadline()
        except Exception:  # keep the node up: try again later
            log.exception("sync engine deadline failed")
            deadline = None
        due = now + MAX_IDLE if deadline is None else min(deadline, now + MAX_IDLE)
        when = loop.time() + max(0.0, due - now)  # on the loop's clock (the same one by default)
        if self._timer is not None:
            if abs(self._timer.when() - when) < 1e-3:
                return
            self._timer.cancel()
        self._timer = loop.call_at(when, self._tick)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._loop = None

    def _tick(self) -> None:
        if self._timer is not None:  # woken early (the link changed): one timer at a time
            self._timer.cancel()
            self._timer = None
        try:
            out = self.core.tick(*self._now())
        except Exception:  # keep the node up; the engine is tested apart
            log.exception("sync engine tick failed")
            out = Output()
        self._emit(out)  # re-arms

    # -- radio side ---------------------------------------------------------------------------

    def _on_state(self, state: LinkState) -> None:
        self.link_state = state
        if state is LinkState.UP and self.link.info is not None:
            self.core.link_up(self.link.info.node_num, self.link.info.role)
            self.transmitter.radio_changed()
        if state is LinkState.UP:
            self.quarantine.link_up()
        self.api.publish("link", self.link_status())
        if self._loop is not None:
            self._loop.call_soon(self._tick)  # what the core does next may depend on the link
        self.transmitter.wake.set()

    def _on_packet(self, event: PacketReceived) -> None:
        self._emit(self.core.receive(event, *self._now()))

    def _on_acked(self, event: PacketAcked) -> None:
        """A neighbour was heard relaying our broadcast: the bulletin it carries was heard."""
        ident = carried_id(event.payload) if event.heard else None
        if ident is not None:
            self._emit(self.core.heard(ident))

    def _on_text(self, heard: TextHeard) -> None:
        """A text another radio sent on channel 0: only the mirror looks at it (it carries no
        signature: never judged, never stored)."""
        if self.mirror.enabled and self.mirror.heard(heard.text, self.clocks.monotonic()):
            self._mirror_wake.set()

    def _from_bridge(self, take: Take) -> tuple[str, bool]:
        """A bulletin from the MQTT bridge: judged like a radio frame, relayed if trusted."""
        outcome, trusted, out = take_in(self.core, take, *self._now())
        self._emit(out)
        return outcome, trusted

    def _now(self) -> tuple[float, float]:
        """(monotonic, wall): timers run on the first, signed times on the second."""
        return self.clocks.monotonic(), self.clocks.wall()

    def _emit(self, out: Output) -> None:
        """Carry out what the node core decided: transmit, tell readers, ignore radios."""
        if out.sends:
            self._enqueue(out.sends)
        if out.ignores:
            self.quarantine.apply(out.ignores)
        for notice in out.notices:
            if isinstance(notice, BulletinHeld | VerdictChanged) and self.mirror.enabled:
                mirror_offer(self.mirror, self.store, notice.id, *self._now())
                self._mirror_wake.set()
            if isinstance(notice, BulletinHeld | VerdictChanged) and self.bridge is not None:
                offer_row(self.bridge, self.store.get(notice.id), self.wall())
            if isinstance(notice, BulletinHeld):
                self._forget_forgery(notice.id)  # the genuine copy arrived after a junk one
                self._announce(notice.id)
            elif isinstance(notice, ForgeryHeard):
                self._note_forgery(notice)
            elif isinstance(notice, VerdictChanged):
                verdict = notice.verdict
                change = {"id": notice.id.hex(), "status": str(verdict.status)}
                change.update(reason=verdict.reason, signer_name=verdict.name or "")
                self.api.publish("verdict", change)
            elif isinstance(notice, DeliveryChanged):
                self.api.publish("delivery", notice.delivery.as_dict(notice.id))
        self._rejudge_soon()
        self._arm()  # the core's next deadline may have moved

    def verdicts_changed(self, changed: Changes) -> None:
        """Verdicts changed by an operator action (trust add/remove, import): carry them out."""
        self._emit(self.core.changed(changed, *self._now()))

    def _forget_forgery(self, ident: bytes) -> None:
        kept = [f for f in self.forgeries if f["id"] != ident.hex()]
        if len(kept) != len(self.forgeries):
            self.forgeries.clear()
            self.forgeries.extend(kept)

    def _note_forgery(self, heard: ForgeryHeard) -> None:
        """Keep recent forgeries in memory (never stored, never relayed) so readers see them."""
        entry = forgery_json(heard.bulletin, heard.reason, heard.at, heard.hops, heard.snr)
        if any(f["id"] == entry["id"] for f in self.forgeries):
            return
        self.forgeries.append(entry)
        self.api.publish("bulletin", entry)

    def _rejudge_soon(self) -> None:
        """Re-judge waiting verdicts in slices between packets, never in one long stall."""
        if self._rejudging or self._loop is None or not self.core.backlog:
            return
        self._rejudging = True
        self._loop.call_soon(self._rejudge_slice)

    def _rejudge_slice(self) -> None:
        self._rejudging = False
        try:
            out = self.core.rejudge(*self._now())
        except Exception:  # a damaged row must not stop the node; the next slice goes on
            log.exception("re-judging stored verdicts failed")
            return
        self._emit(out)  # schedules the next slice while a backlog remains

    def _announce(self, ident: bytes) -> None:
        row = self.store.get(ident)
        if row is not None:
            bulletin = bulletin_json(row, self.deliveries.get(ident), self.wall())
            self.api.publish("bulletin", bulletin)

    def _enqueue(self, sends: list[SendPacket]) -> None:
        self.transmitter.submit(sends)

    def _about(self, ident: bytes) -> About | None:
        """What the transmit queue needs about a stored bulletin: age, expiry, author."""
        row = self.store.get(ident)
        return None if row is None else About(row.created, row.expires_at, row.author)

    def _on_sent(self, ident: bytes) -> None:
        self._emit(self.core.sent(ident))

    def radio_preset(self) -> str:
        return self.transmitter.preset

    async def _status_loop(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(5.0)
            rounds += 1
            if rounds % 120 == 0:  # every 10 minutes
                self.core.expire_untrusted(self.wall())
                if self.simulate:  # the demo feed's store stays bounded however long it runs
                    from relay.simulated import prune

                    prune(self.store, self.wall())
            self.transmitter.radio_changed()
            self.api.publish("mesh", self.status())

    # -- for the API ----------------------------------------------------------------------------

    def publish_local(self, raw: bytes) -> tuple[bytes, int]:
        """Ingest and transmit one of our own bulletins; returns its id and packet count.
        Raises ``Rejected`` if our own pipeline refuses it."""
        self._learn_own_keys()
        ident, out = self.core.publish(raw, *self._now())
        self._emit(out)
        return ident, len(out.sends)

    def after_import(self, result: IngestResult) -> None:
        """A bulletin taken in from a bundle: relay it if trusted, tell subscribers."""
        self._emit(self.core.taken_in(result, *self._now()))

    def link_status(self) -> dict[str, Any]:
        return {
            "state": self.link_state.value,
            "address": self.radio_address,
            "simulated": self.simulate,
            "ignored_radios": self.quarantine.status(),
            "health": self.link.health.as_dict(),
            "mirror": mirror_status(self.mirror),
        }

    def status(self) -> dict[str, Any]:
        return status_view(
            simulated=self.simulate, link=self.link_status(), info=self.link.info,
            transmitter=self.transmitter, store=self.store, ingest=self.ingest,
            uptime_s=self.clocks.monotonic() - self.started_at,
            bridge=None if self.bridge is None else self.bridge.status(),
        )  # fmt: skip


async def _close_link(link: RadioLink) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(link.__aexit__(None, None, None), 10)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the daemon's loops and wait for them; cancel again a task that swallowed it
    (Python 3.11's ``wait_for`` can lose a cancellation that meets its inner future's end)."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        while not task.done():
            await asyncio.wait({task}, timeout=1.0)
            if not task.done():
                task.cancel()
        if not task.cancelled() and task.exception() is not None:
            log.error("a daemon task ended with %r", task.exception())
