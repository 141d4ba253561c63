"""The bridge's settings: a broker URL, a login and TLS files, from the environment or a file.

``mqtts://user@host:8883/net`` (``mqtt://`` for plain TCP, loopback or a VPN only). The password
never sits in a URL, argv or a log: it comes from ``$JARSHY_BRIDGE_PASSWORD`` or a file
(``password_file`` in ``<home>/bridge.toml``, or ``$JARSHY_BRIDGE_PASSWORD_FILE``). The path of
the URL names the network (default ``main``): gateways of one network share its topics.

``<home>/bridge.toml`` (every key optional but ``url``; the environment wins)::

    url = "mqtts://gw-almaty@broker.example.org:8883/kz"
    password_file = "/etc/jarshy/bridge.password"
    ca_file = "/etc/jarshy/broker-ca.pem"        # else the system's CAs
    cert_file = "/etc/jarshy/gw-almaty.pem"      # a client certificate, with key_file
    key_file = "/etc/jarshy/gw-almaty.key"
    gateway = "gw-almaty"                        # default: the user name
    protocol = 5                                 # or 3 (MQTT 3.1.1)

    [meshtastic]                  # stock radios' MQTT on the Jarshy channel (docs/bridge.md)
    channel = "Jarshy"
    psk = "base64:..."            # the channel's PSK (or $JARSHY_BRIDGE_MESHTASTIC_PSK)
    root = "msh/jarshy-almaty"    # this island's root: its radios' uplinks come in
    downlink = ["msh/jarshy-bishkek"]  # other islands' roots: trusted bulletins go down
    node = "!4a0000fe"            # the gateway's node number in downlinks (no radio's)
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from relay.bridge.core import valid_name
from relay.errors import UserError

if TYPE_CHECKING:  # imported by _meshtastic() only when stock radios are bridged (AES, protobuf)
    from relay.bridge.meshtastic_link import MeshtasticSettings

CONFIG_NAME = "bridge.toml"
GATEWAY_ID_NAME = "bridge-gateway"  # a generated gateway name, kept for the next start
DEFAULT_NET = "main"
_KEYS = {"url", "password_file", "ca_file", "cert_file", "key_file", "gateway", "protocol",
         "meshtastic"}  # fmt: skip
_MESHTASTIC_KEYS = {"channel", "psk", "root", "downlink", "node"}


@dataclass(frozen=True, slots=True)
class BridgeSettings:
    host: str
    port: int
    tls: bool
    net: str
    gateway: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    protocol: int = 5  # MQTT 5, or 3 for 3.1.1
    backoff: tuple[float, float] = (1.0, 60.0)  # first and longest wait between connections
    meshtastic: MeshtasticSettings | None = None  # stock radios' MQTT on the Jarshy channel

    @property
    def url(self) -> str:
        """The URL as status shows it: never a password."""
        user = f"{self.username}@" if self.username else ""
        scheme = "mqtts" if self.tls else "mqtt"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}/{self.net}"

    @property
    def client_id(self) -> str:
        """The MQTT client id of this gateway's persistent session."""
        return f"jarshy-{self.gateway}"


def parse_url(url: str) -> tuple[str, int, bool, str, str | None]:
    """(host, port, tls, net, user) of ``mqtt[s]://[user@]host[:port][/net]``; UserError if bad.
    A password in the URL is refused (it would show in argv, logs and `ps`)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UserError(f"bridge URL: {exc}") from None
    if parts.scheme not in ("mqtt", "mqtts"):
        raise UserError("bridge URL must start with mqtts:// (or mqtt:// on a trusted network)")
    if parts.password is not None:
        raise UserError(
            "bridge URL: no password in the URL; use JARSHY_BRIDGE_PASSWORD or password_file"
        )
    if not parts.hostname:
        raise UserError("bridge URL has no host")
    tls = parts.scheme == "mqtts"
    net = parts.path.strip("/") or DEFAULT_NET
    if not valid_name(net):
        raise UserError("bridge URL: the network name (its path) is 1-64 of A-Z a-z 0-9 _ . -")
    user = unquote(parts.username) if parts.username else None
    return parts.hostname, port or (8883 if tls else 1883), tls, net, user


def load_settings(
    home: Path, url: str | None = None, env: Mapping[str, str] | None = None
) -> BridgeSettings | None:
    """The bridge's settings: ``url`` (the daemon's --bridge), else ``$JARSHY_BRIDGE``, else
    ``<home>/bridge.toml``; None when no bridge is configured. UserError on a bad setting."""
    env = os.environ if env is None else env
    config = _read_config(home / CONFIG_NAME)
    given = url or env.get("JARSHY_BRIDGE") or config.get("url")
    if not given:
        return None
    host, port, tls, net, user = parse_url(str(given))

    def setting(key: str, var: str) -> Path | None:
        value = env.get(var) or config.get(key)
        return Path(str(value)).expanduser() if value else None

    password = env.get("JARSHY_BRIDGE_PASSWORD")
    password_file = setting("password_file", "JARSHY_BRIDGE_PASSWORD_FILE")
    if password is None and password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(f"bridge password file {password_file}: {exc.strerror}") from None
    ca = setting("ca_file", "JARSHY_BRIDGE_CA")
    cert = setting("cert_file", "JARSHY_BRIDGE_CERT")
    key = setting("key_file", "JARSHY_BRIDGE_KEY")
    if (cert is None) != (key is None):
        raise UserError("bridge: a client certificate needs both cert_file and key_file")
    for path in (ca, cert, key):
        if path is not None and not path.is_file():
            raise UserError(f"bridge: {path} is not a readable file")
    protocol = int(str(env.get("JARSHY_BRIDGE_PROTOCOL") or config.get("protocol") or 5))
    if protocol not in (3, 5):
        raise UserError("bridge protocol is 5 (MQTT 5) or 3 (MQTT 3.1.1)")
    gateway = str(env.get("JARSHY_BRIDGE_GATEWAY") or config.get("gateway") or user or "")
    gateway = gateway or _generated_gateway(home)
    if not valid_name(gateway):
        raise UserError("bridge gateway name is 1-64 of A-Z a-z 0-9 _ . -")
    meshtastic = _meshtastic(config.get("meshtastic"), env)
    return BridgeSettings(host, port, tls, net, gateway, user, password, ca, cert, key, protocol,
                          meshtastic=meshtastic)  # fmt: skip


def _meshtastic(table: object, env: Mapping[str, str]) -> MeshtasticSettings | None:
    """The ``[meshtastic]`` table of bridge.toml (None without one); UserError if bad."""
    if table is None:
        return None
    from relay.bridge.channel_crypto import ChannelKey
    from relay.bridge.meshtastic_link import MeshtasticSettings
    from relay.bridge.meshtastic_mqtt import DEFAULT_ROOT, check_root, parse_node_id

    if not isinstance(table, dict):
        raise UserError("bridge.toml: [meshtastic] must be a table")
    unknown = sorted(set(table) - _MESHTASTIC_KEYS)
    if unknown:
        raise UserError(f"bridge.toml: unknown [meshtastic] setting {unknown[0]!r}")
    psk = env.get("JARSHY_BRIDGE_MESHTASTIC_PSK") or table.get("psk")
    if not isinstance(psk, str):
        raise UserError("bridge.toml: [meshtastic] needs psk (the Jarshy channel's, base64)")
    try:
        channel = ChannelKey.from_base64(str(table.get("channel", "Jarshy")), psk)
        root = str(table.get("root", DEFAULT_ROOT))
        downlink = table.get("downlink", [])
        if not isinstance(downlink, list):
            raise ValueError("downlink is a list of roots")
        roots = tuple(str(r) for r in downlink)
        for name in (root, *roots):
            check_root(name)
        if root in roots:
            raise ValueError("a downlink root is not this island's own root")
    except ValueError as exc:
        raise UserError(f"bridge.toml: [meshtastic]: {exc}") from None
    node = parse_node_id(str(table.get("node", "!4a0000fe")))
    if node is None:
        raise UserError("bridge.toml: [meshtastic] node is a node id like !4a0000fe")
    return MeshtasticSettings(channel, root, roots, node)


def _read_config(path: Path) -> dict[str, object]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise UserError(
            f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})"
        )
    return data


def _generated_gateway(home: Path) -> str:
    """A gateway name made once for this home (when there is no user name to take)."""
    path = home / GATEWAY_ID_NAME
    try:
        name = path.read_text(encoding="utf-8").strip()
        if valid_name(name):
            return name
    except OSError:
        pass
    name = "gw-" + secrets.token_hex(4)
    path.write_text(name + "\n", encoding="utf-8")
    return name
