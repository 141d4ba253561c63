"""The bridge's I/O: one asyncio MQTT connection (aiomqtt) driving a :class:`BridgeCore`.

Connects with TLS and a login, keeps a persistent session (clean start off, a week's session
expiry) so the broker queues what arrives while we are away, and reconnects with exponential
back-off (with jitter) for as long as the daemon runs. While the broker is down, bulletins wait in
the core's bounded outbox. Incoming messages go through a bounded queue that is fair between
publishers (relay.bridge.fair_queue), then the core's checks, then the host's ``judge`` (the
node's ingest pipeline). The state, counters and the last error (one line, never a password) are
what ``jarshy status`` shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Callable
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from relay.bridge.core import MAX_PAYLOAD, MAX_TOPIC, BridgeCore, BridgeLimits, Refuse, Take
from relay.bridge.fair_queue import FairQueue
from relay.bridge.meshtastic_link import MeshtasticBridge
from relay.bridge.settings import BridgeSettings
from relay.sync.events import PacketReceived

log = logging.getLogger("jarshy.bridge")

Judge = Callable[[Take], tuple[str, bool]]  # a Take -> (ingest outcome, trusted)
SESSION_EXPIRY = 7 * 86400  # seconds the broker keeps our session and queue while we are away
WINDOW = 16  # publications in flight at once
EXPIRY_CHECK = 60.0  # seconds between looks for expired bulletins to clear (MQTT 3.1.1)
INBOUND = 1000  # messages waiting to be judged
BATCH = 32  # messages judged in one store transaction before the radio and the API get a turn
NOT_AUTHORIZED = "not authorized (a wrong password, or no access)"  # mosquitto's answer to both
_LOGIN = {4: "bad user name or password", 5: NOT_AUTHORIZED,
          134: "bad user name or password", 135: NOT_AUTHORIZED}  # fmt: skip


class BridgeLink:
    """The gateway's connection to its broker (see module docstring)."""

    def __init__(
        self,
        settings: BridgeSettings,
        judge: Judge,
        *,
        limits: BridgeLimits | None = None,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        seed: int | None = None,
        heard: Callable[[PacketReceived], None] | None = None,
        batch: Callable[[], contextlib.AbstractContextManager[object]] = contextlib.nullcontext,
    ) -> None:
        self.settings = settings
        self.core = BridgeCore(settings.net, settings.gateway, limits)
        self.judge = judge
        self.batch = batch  # the store's batch(): messages waiting together, one transaction
        self.wall, self.monotonic = wall, monotonic
        self.state = "connecting"
        self.since = wall()
        self.last_error: str | None = None
        # Stock radios' uplinks (handed to ``heard``, as from our own radio) and downlinks
        self.meshtastic: MeshtasticBridge | None = None
        if settings.meshtastic is not None and heard is not None:
            self.meshtastic = MeshtasticBridge(settings.meshtastic, heard)
        self._random = random.Random(seed)
        self._wake = asyncio.Event()
        self._session_present = False
        self.inbound: FairQueue | None = None
        self.connected = asyncio.Event()  # set while connected (tests and the benchmark wait)

    # -- for the daemon ----------------------------------------------------------------------------

    def offer(self, raw: bytes, ident: bytes, priority: int, expires_at: float | None) -> None:
        """A trusted bulletin to publish (the core decides whether it goes)."""
        if self.core.offer(raw, ident, priority, expires_at):
            if self.meshtastic is not None:
                self.meshtastic.downlink(raw)  # its envelopes for stock radios elsewhere
            self._wake.set()

    def status(self) -> dict[str, Any]:
        stats = self.core.stats
        return {
            "url": self.settings.url,
            "state": self.state,
            "since": round(self.since),
            "queued": self.core.queued,
            "sent": stats.sent,
            "received": stats.received,
            "rejected": stats.rejected,
            "last_error": self.last_error,
        } | ({} if self.meshtastic is None else {"meshtastic": self.meshtastic.status()})

    async def run(self) -> None:
        """Connect, serve, reconnect with back-off: until cancelled."""
        first, longest = self.settings.backoff
        wait = first
        while True:
            if self.state != "down":  # retrying after a failure stays "down" (since it failed)
                self._set_state("connecting")
            try:
                async with self._client() as client:
                    wait = first
                    self.last_error = None
                    await self._serve(client)
            except aiomqtt.MqttError as exc:
                self._down(describe(exc, self.settings))
            except ssl.SSLError as exc:  # pragma: no cover - aiomqtt wraps most of these
                self._down(f"TLS: {exc.reason or exc}")
            except Exception as exc:  # the bridge must never take the daemon down
                log.exception("bridge %s failed", self.settings.url)
                self._down(f"bridge failed: {type(exc).__name__}: {exc}")
            finally:
                self.connected.clear()
                self.core.disconnected()
            await asyncio.sleep(wait * self._random.uniform(0.8, 1.2))
            wait = min(longest, wait * 2)

    # -- internals ---------------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state, self.since = state, self.wall()

    def _down(self, error: str) -> None:
        if error != self.last_error:
            log.warning("bridge %s: %s", self.settings.url, error)
        self.last_error = error
        self._set_state("down")

    def _client(self) -> aiomqtt.Client:
        s = self.settings
        v5 = s.protocol == 5
        properties = None
        if v5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY
            properties.MaximumPacketSize = MAX_PAYLOAD + MAX_TOPIC + 64  # larger is never sent
        client = aiomqtt.Client(
            s.host, s.port, username=s.username, password=s.password,
            identifier=s.client_id, queue_type=FairQueue, max_queued_incoming_messages=INBOUND,
            protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
            clean_session=None if v5 else False, properties=properties,
            clean_start=False if v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,  # 3.1.1: clean_session
            tls_context=_tls(s) if s.tls else None, timeout=10, keepalive=30,
        )  # fmt: skip
        client.pending_calls_threshold = WINDOW + 1  # our window, not a warning
        self.inbound = client._queue if isinstance(client._queue, FairQueue) else None
        paho = client._client
        on_connect = paho.on_connect

        def connect_flags(*args: Any) -> None:  # learn whether the broker kept our session
            self._session_present = bool(getattr(args[2], "session_present", False))
            on_connect(*args)  # type: ignore[misc]

        paho.on_connect = connect_flags
        return client

    async def _serve(self, client: aiomqtt.Client) -> None:
        if not self._session_present:  # a kept session keeps its subscriptions (no resending
            await self._subscribe(client)  # of every retained message on each reconnect)
        self.core.connected(self._session_present, self.wall())
        self._set_state("connected")
        self.connected.set()
        log.info("bridge %s connected (session %s)", self.settings.url,
                 "kept" if self._session_present else "new")  # fmt: skip
        self._wake.set()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._publish(client))
                group.create_task(self._receive(client))
        except BaseExceptionGroup as failed:
            raise _first(failed) from None

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        if self.settings.protocol == 5:
            options = SubscribeOptions(qos=1, noLocal=True)  # not our own publications back
            await client.subscribe(self.core.subscription, options=options)
        else:
            await client.subscribe(self.core.subscription, qos=1)
        if self.meshtastic is not None:
            await client.subscribe(self.meshtastic.filter, qos=1)

    async def _publish(self, client: aiomqtt.Client) -> None:
        v5 = self.settings.protocol == 5
        while True:
            await self._downlinks(client)
            if not v5:  # no message expiry: clear what expired ourselves (an empty retained)
                for topic in self.core.expired(self.wall()):
                    await client.publish(topic, b"", qos=1, retain=True)
            due = self.core.due(self.wall(), WINDOW)
            if not due:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):  # look at expiry now and then
                    await asyncio.wait_for(self._wake.wait(), EXPIRY_CHECK)
                continue

            async def one(topic: str, payload: bytes, expiry: int, ident: bytes) -> None:
                properties = None
                if v5:
                    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                    properties.MessageExpiryInterval = expiry
                await client.publish(topic, payload, qos=1, retain=True, properties=properties)
                self.core.acked(ident)

            async with asyncio.TaskGroup() as group:
                for item in due:
                    group.create_task(one(item.topic, item.payload, item.expiry, item.ident))

    async def _downlinks(self, client: aiomqtt.Client) -> None:
        """Envelopes for stock radios of other islands: QoS 1, never retained (radios take a
        downlink as heard now; an old one replayed would be air spent twice)."""
        outgoing = self.meshtastic.outgoing if self.meshtastic is not None else None
        while outgoing:
            down = outgoing.popleft()
            try:
                await client.publish(down.topic, down.payload, qos=1, retain=False)
            except BaseException:
                outgoing.appendleft(down)  # the connection went: it waits for the next
                raise

    async def _receive(self, client: aiomqtt.Client) -> None:
        queue = client._queue
        async for message in client.messages:
            batch = [message]
            while len(batch) < BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            with self.batch():
                for one in batch:
                    payload = one.payload if isinstance(one.payload, bytes) else b""
                    self.take(str(one.topic), payload)
            await asyncio.sleep(0)

    def take(self, topic: str, payload: bytes) -> None:
        """One message from the broker: the core's checks, then the node's judge."""
        if self.meshtastic is not None and aiomqtt.Topic(topic).matches(self.meshtastic.filter):
            try:
                self.meshtastic.uplinked(topic, payload)
            except Exception:  # a radio's bytes must not end our session
                log.exception("bridge: a Meshtastic uplink on %s failed", topic)
            return
        verdict = self.core.received(topic, payload, self.monotonic())
        if isinstance(verdict, Take):
            try:
                outcome, trusted = self.judge(verdict)
            except Exception:  # one bulletin the node could not take must not end the session
                log.exception("bridge: judging %s from %s failed", verdict.ident.hex(),
                              verdict.publisher)  # fmt: skip
                outcome, trusted = "rejected", False
            self.core.judged(verdict, outcome, trusted, self.monotonic())
        elif isinstance(verdict, Refuse):
            log.debug("bridge refused a message from %s: %s", verdict.publisher, verdict.reason)


def describe(exc: aiomqtt.MqttError, settings: BridgeSettings) -> str:
    """One line an operator can act on."""
    rc = getattr(exc, "rc", None)
    code = int(getattr(rc, "value", rc)) if rc is not None else None
    if isinstance(exc, MqttConnectError) and code in _LOGIN:
        who = settings.username or "(no user name)"
        return f"the broker refused the login of {who}: {_LOGIN[code]}"
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return f"TLS: the broker's certificate is not trusted ({text})"
    if "SSL" in text or "certificate" in text.lower():
        return f"TLS: {text}"  # e.g. the broker wants a client certificate
    if isinstance(exc, MqttConnectError):
        return f"the broker refused the connection: {text}"
    where = f"{settings.host}:{settings.port}"
    return f"lost or could not reach {where}: {text}" if text else f"lost {where}"


def _first(failed: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first error inside (nested) task groups: an MqttError is what ends a session."""
    for exc in failed.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if isinstance(exc, aiomqtt.MqttError):
            return exc
    return failed.exceptions[0]


def _tls(settings: BridgeSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file is not None else None
    )
    if settings.cert_file is not None and settings.key_file is not None:
        context.load_cert_chain(str(settings.cert_file), str(settings.key_file))
    return context
