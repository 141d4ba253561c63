"""Meshtastic channel share URLs (``https://meshtastic.org/e/#...``) and channel keys.

The URL carries a base64url ``ChannelSet`` protobuf (no padding): the channels' settings and the
LoRa config, exactly what the official apps and ``meshtastic --seturl`` read. Two forms:

- ``https://meshtastic.org/e/?add=true#...`` **adds** its channels as secondaries next to the
  radio's own (meshtastic python ``Node.setURL(addOnly=True)``, ``meshtastic --ch-add-url``): the
  default for the Jarshy channel, so the public primary and its frequency slot stay.
- ``https://meshtastic.org/e/#...`` **replaces** the channel list, the first channel becoming the
  primary: for an isolated Jarshy mesh only.

Both forms make the official CLI apply the URL's LoRa config too (``setURL`` sends
``set_config.lora`` in either mode), so a URL must carry a complete one, region included: an
empty one would set the region UNSET and silence the radio.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from meshtastic.protobuf import apponly_pb2, channel_pb2, config_pb2

from relay.errors import UserError

URL_PREFIX = "https://meshtastic.org/e/#"
ADD_URL_PREFIX = "https://meshtastic.org/e/?add=true#"
DEFAULT_HOP_LIMIT = 3


@dataclass(frozen=True)
class ChannelShare:
    """What a share URL says: the channels (primary first, unless ``add``) and the LoRa config."""

    channels: tuple[Any, ...]  # channel_pb2.ChannelSettings
    lora: Any  # config_pb2.Config.LoRaConfig
    add: bool = False  # the ?add=true form: add the channels, keep the radio's primary


def new_key() -> bytes:
    """A random 32-byte channel key (AES-256)."""
    return os.urandom(32)


def key_fingerprint(psk: bytes) -> str:
    """A short, non-secret name for a key, to show in diffs: ``sha256:1a2b3c4d``."""
    if len(psk) <= 1:
        return "default key" if psk else "no encryption"
    return "sha256:" + hashlib.sha256(psk).hexdigest()[:8]


def make_url(
    name: str,
    psk: bytes,
    *,
    preset: str = "LONG_FAST",
    region: str | None = None,
    tx_power: int = 0,
    hop_limit: int = DEFAULT_HOP_LIMIT,
    add: bool = False,
    channel_num: int = 0,
) -> str:
    """The share URL of one channel with this LoRa config (``add``: the add-channel form)."""
    lora_type = config_pb2.Config.LoRaConfig
    channel_set = apponly_pb2.ChannelSet()
    channel_set.settings.append(channel_pb2.ChannelSettings(name=name, psk=psk))
    lora = channel_set.lora_config
    lora.use_preset = True
    lora.modem_preset = lora_type.ModemPreset.Value(preset)
    if region is not None:
        lora.region = lora_type.RegionCode.Value(region)
    lora.tx_power = tx_power
    lora.hop_limit = hop_limit
    lora.tx_enabled = True
    lora.channel_num = channel_num
    encoded = base64.urlsafe_b64encode(channel_set.SerializeToString()).decode("ascii")
    return (ADD_URL_PREFIX if add else URL_PREFIX) + encoded.rstrip("=")


def parse_url(url: str) -> ChannelShare:
    """Decode a share URL (either form); raises :class:`UserError` naming what is wrong."""
    head, sep, b64 = url.strip().partition("#")
    page, _, query = head.partition("?")
    if not sep or page.rstrip("/") not in ("https://meshtastic.org/e", "https://meshtastic.org/d"):
        raise UserError(f"a channel URL looks like {ADD_URL_PREFIX}..., not {url[:40]!r}")
    try:
        raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        channel_set = apponly_pb2.ChannelSet()
        channel_set.ParseFromString(raw)
    except Exception as exc:  # binascii.Error or protobuf's DecodeError
        raise UserError(f"the channel URL does not decode: {exc}") from None
    if not channel_set.settings:
        raise UserError("the channel URL holds no channel")
    add = "add=true" in query.split("&")
    return ChannelShare(tuple(channel_set.settings), channel_set.lora_config, add)
