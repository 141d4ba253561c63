"""TLS with a test CA made by the fixture, logins from a password file, an ACL that lets each
gateway write only under its own prefix, client certificates, and a wrong password's error."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import aiomqtt
import pytest

from relay.bridge.settings import load_settings
from relay.errors import UserError
from relay.wire import bulletin as wire
from tests.bridge.conftest import Broker, Pki, connected, gateway, make_pki, mesh, needs_mosquitto
from tests.helpers import news, until

pytestmark = needs_mosquitto


def tls_broker(directory: Path, pki: Pki, client_certs: bool = False) -> Broker:
    """A broker that speaks only TLS; passwords (or client certificates) and an ACL."""
    directory.mkdir(parents=True)
    passwords, acl = directory / "passwd", directory / "acl"
    passwords.touch()
    for user, password in (("gw-a", "secret-a"), ("gw-b", "secret-b"), ("evil", "evil")):
        subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True)
    acl.write_text("pattern readwrite jarshy/+/g/%u/#\npattern read jarshy/+/g/+/b/+\n")
    broker = Broker(directory)
    login = (
        "require_certificate true\nuse_identity_as_username true\n"
        if client_certs
        else f"password_file {passwords}\n"
    )
    broker.extra = (
        f"listener {broker.port} 127.0.0.1\nallow_anonymous false\n{login}acl_file {acl}\n"
        f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
    )
    return broker.start()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


async def test_tls_and_logins_carry_bulletins_and_a_wrong_password_is_a_clear_error(
    pki: Pki, tmp_path: Path
) -> None:
    broker = tls_broker(tmp_path / "broker", pki)
    try:

        def settings(user: str, password: str) -> object:
            return broker.settings(user, tls=True, username=user, password=password, ca_file=pki.ca)

        with mesh(0x2401, 1) as a, mesh(0x3401, 1) as b, mesh(0x4401, 1) as c:
            async with gateway(
                tmp_path / "a", a.addresses[0], settings("gw-a", "secret-a")
            ) as gw_a:  # type: ignore[arg-type]
                author = gw_a.new_identity("Newsroom")
                roots = (author.public_key,)
                async with (
                    gateway(
                        tmp_path / "b", b.addresses[0], settings("gw-b", "secret-b"), roots
                    ) as gw_b,  # type: ignore[arg-type]
                    gateway(
                        tmp_path / "c", c.addresses[0], settings("gw-b", "Pa55-typo"), roots
                    ) as wrong,  # type: ignore[arg-type]
                ):
                    await connected(gw_a)
                    await connected(gw_b)
                    bulletin = news(author, "over TLS", created=int(time.time()))
                    gw_a.daemon.publish_local(bulletin.raw)
                    await until(lambda: gw_b.daemon.store.get(bulletin.id) is not None, timeout=30)

                    assert wrong.daemon.bridge is not None
                    await until(lambda: wrong.daemon.bridge.last_error is not None)  # type: ignore[union-attr]
                    status = (await wrong.call("status"))["bridge"]
                    assert status["state"] in ("down", "connecting")
                    assert status["last_error"] == (
                        "the broker refused the login of gw-b: not authorized (a wrong password, or no access)"
                    )
                    assert "Pa55-typo" not in str(status) and "secret" not in str(status)

                    # The ACL: another login cannot write under gw-a's prefix (dropped by the
                    # broker), so budgets and the spam brake apply per login.
                    async with aiomqtt.Client("127.0.0.1", broker.port, username="evil",
                                              password="evil", tls_params=aiomqtt.TLSParameters(
                                                  ca_certs=str(pki.ca)),
                                              protocol=aiomqtt.ProtocolVersion.V5) as evil:  # fmt: skip
                        fake = news(author, "not from gw-a", created=int(time.time())).raw
                        fake_topic = f"jarshy/test/g/gw-a/b/{wire.parse(fake).id.hex()}"
                        await evil.publish(fake_topic, fake, qos=1)  # would be taken in
                        await evil.publish("jarshy/test/g/evil/b/" + "11" * 8, b"junk", qos=1)
                    assert gw_b.daemon.bridge is not None
                    await until(lambda: gw_b.daemon.bridge.core.stats.rejected >= 1)  # type: ignore[union-attr]
                    assert gw_b.daemon.bridge.core.stats.reasons == {"junk": 1}
                    assert gw_b.daemon.bridge.core.stats.received == 1  # only the one over TLS
    finally:
        broker.stop()


async def test_client_certificates_log_in_and_an_untrusted_broker_certificate_is_refused(
    pki: Pki, tmp_path: Path
) -> None:
    broker = tls_broker(tmp_path / "broker", pki, client_certs=True)
    try:
        good = broker.settings("gw-client", tls=True, ca_file=pki.ca, cert_file=pki.client_cert,
                               key_file=pki.client_key)  # fmt: skip
        other = make_pki(tmp_path / "other-pki")  # a CA that never signed the broker
        bad = broker.settings("gw-client", tls=True, ca_file=other.ca, cert_file=pki.client_cert,
                              key_file=pki.client_key)  # fmt: skip
        with mesh(0x2501, 2) as a:
            async with (
                gateway(tmp_path / "a", a.addresses[0], good) as node,
                gateway(tmp_path / "b", a.addresses[1], bad) as refused,
            ):
                await connected(node)
                assert refused.daemon.bridge is not None
                await until(lambda: refused.daemon.bridge.last_error is not None)  # type: ignore[union-attr]
                assert refused.daemon.bridge.last_error.startswith(
                    "TLS: the broker's certificate is not trusted"
                )  # type: ignore[union-attr]
                assert not refused.daemon.bridge.connected.is_set()
    finally:
        broker.stop()


def test_settings_from_the_environment_and_the_config_file(tmp_path: Path) -> None:
    env = {"JARSHY_BRIDGE": "mqtts://gw-almaty@broker.example.org/kz",
           "JARSHY_BRIDGE_PASSWORD": "hunter2"}  # fmt: skip
    settings = load_settings(tmp_path, env=env)
    assert settings is not None
    assert (settings.host, settings.port, settings.tls, settings.net) == (
        "broker.example.org",
        8883,
        True,
        "kz",
    )
    assert settings.gateway == "gw-almaty" and settings.client_id == "jarshy-gw-almaty"
    assert settings.url == "mqtts://gw-almaty@broker.example.org:8883/kz"
    assert "hunter2" not in repr(settings) and settings.password == "hunter2"
    assert load_settings(tmp_path, env={}) is None
    (tmp_path / "pw").write_text("from-a-file\n")
    (tmp_path / "bridge.toml").write_text(
        f'url = "mqtt://127.0.0.1:1884"\npassword_file = "{tmp_path / "pw"}"\n'
    )
    from_file = load_settings(tmp_path, env={})
    assert from_file is not None and from_file.password == "from-a-file" and from_file.net == "main"
    assert from_file.gateway.startswith("gw-")  # made once, kept for the next start
    assert load_settings(tmp_path, env={}).gateway == from_file.gateway  # type: ignore[union-attr]
    for url, error in (("mqtts://u:pw@h/kz", "no password in the URL"),
                       ("http://h", "must start with mqtts://"),
                       ("mqtts://h/a/b", "network name")):  # fmt: skip
        with pytest.raises(UserError, match=error):
            load_settings(tmp_path, url, env={})
    (tmp_path / "bridge.toml").write_text('url = "mqtt://h"\npasword_file = "x"\n')
    with pytest.raises(UserError, match="unknown setting 'pasword_file'"):
        load_settings(tmp_path, env={})
