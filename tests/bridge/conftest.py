"""Fixtures for the bridge: a real mosquitto on a free loopback port (its own config, persistence
and log in a temporary directory; the system's service plays no part), emulated meshes of radios,
daemons joined to a broker, and a test CA made with ``cryptography``."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime
import getpass
import ipaddress
import math
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relay.bridge.settings import BridgeSettings
from relay.radio.emulator import EmulatedRadio
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from tests.daemon.conftest import Node, running

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
)
needs_mosquitto = pytest.mark.skipif(
    MOSQUITTO is None, reason="mosquitto is not installed (apt-get install mosquitto; .ci/run does)"
)


def _die_with_parent() -> None:
    """In the broker's process before exec: end it when the test process ends, however it ends
    (a run killed by a timeout never reaches the fixture's teardown). Linux; elsewhere nothing."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    """One mosquitto process; ``restart()`` keeps its port, config and persistence."""

    directory: Path
    extra: str = ""
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.directory / "mosquitto.conf"

    def write_config(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        lines = [
            f"user {getpass.getuser()}",  # as root, mosquitto would switch to its own user
            "per_listener_settings false",
            "persistence true",
            f"persistence_location {self.directory}/",
            "autosave_interval 1",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            f"log_dest file {self.directory}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
            self.extra or f"listener {self.port} 127.0.0.1\nallow_anonymous true",
        ]
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> Broker:
        assert MOSQUITTO is not None
        self.write_config()
        log = open(self.directory / "stdout.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=log, stderr=log,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError((self.directory / "mosquitto.log").read_text(errors="replace"))
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return self
            time.sleep(0.05)
        raise AssertionError("mosquitto did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def settings(self, gateway: str, **kw: object) -> BridgeSettings:
        values: dict[str, object] = dict(host="127.0.0.1", port=self.port, tls=False, net="test",
                                         gateway=gateway, backoff=(0.05, 0.5))  # fmt: skip
        values.update(kw)
        return BridgeSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto; .ci/run does)")
    running = Broker(tmp_path / "broker").start()
    yield running
    running.stop()


@dataclass
class Mesh:
    """Emulated radios on one medium of their own: radios of another mesh never hear these."""

    medium: InProcessMedium
    radios: list[EmulatedRadio]
    transports: list[TcpTransport]

    @property
    def addresses(self) -> list[str]:
        return [f"tcp:127.0.0.1:{t.port}" for t in self.transports]

    def close(self) -> None:
        for transport in self.transports:
            transport.close()
        for radio in self.radios:
            radio.stop()
        self.medium.close()


@contextlib.contextmanager
def mesh(first: int, count: int) -> Iterator[Mesh]:
    medium = InProcessMedium(time_scale=math.inf, seed=first)
    made = Mesh(medium, [], [])
    try:
        for num in range(first, first + count):
            radio = EmulatedRadio(RadioState.create(num, region="KZ_433"), medium=medium, seed=num)
            radio.start()
            made.radios.append(radio)
            made.transports.append(TcpTransport(radio, port=0).start())
        yield made
    finally:
        made.close()


@asynccontextmanager
async def gateway(
    home: Path, radio: str, bridge: BridgeSettings | None, roots: tuple[bytes, ...] = ()
) -> AsyncIterator[Node]:
    """A daemon on ``radio`` joined to a broker by ``bridge`` (none: a plain node), trusting
    ``roots`` (public keys); run until the block ends, then it must stop cleanly."""
    async with running(home, radio, bridge=bridge, roots=roots) as node:
        yield node


async def connected(node: Node) -> None:
    """Wait until the node's bridge is connected and subscribed."""
    assert node.daemon.bridge is not None
    await asyncio.wait_for(node.daemon.bridge.connected.wait(), 20)


# -- a test CA ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_pki(directory: Path) -> Pki:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jarshy test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip

    def leaf(name: str, server: bool) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )  # fmt: skip
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))  # fmt: skip
        return cert_path, key_path

    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    server = leaf("broker", True)
    client = leaf("gw-client", False)
    return Pki(directory / "ca.pem", *server, *client)
