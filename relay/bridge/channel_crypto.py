"""Meshtastic channel encryption as a stock radio does it: key, channel hash, AES-CTR per packet.

Pure: no I/O. Each rule follows a file of the Meshtastic firmware (2.7/2.8 sources):

* **The key a PSK stands for** (``Channels::getKey``, src/mesh/Channels.cpp): an empty PSK or the
  one byte 0 means no encryption; one byte ``n`` (1..255) is the public default key
  ``defaultpsk`` (Channels.h; "AQ==" is n = 1) with its last byte raised by ``n - 1``; 2..15
  bytes are zero-padded to an AES-128 key, 17..31 to an AES-256 key. Shared with the radio
  emulator through :func:`relay.sim.meshrules.expand_psk`.
* **The channel hash** (``Channels::generateHash``, src/mesh/Channels.cpp): the XOR of the name's
  bytes and of the expanded key's bytes; an encrypted packet carries it in ``MeshPacket.channel``.
* **The nonce** (``CryptoEngine::initNonce``, src/mesh/CryptoEngine.cpp): 16 bytes, the packet id
  as a little-endian uint64, the sender's node number as a little-endian uint32, four zero bytes.
* **The cipher** (``CryptoEngine::encryptAESCtr``): AES-128-CTR for a 16-byte key, AES-256-CTR
  otherwise, the counter in the nonce's last four bytes (``setCounterSize(4)``); decrypting is
  encrypting (``CryptoEngine::decrypt``). ``encryptPacket`` leaves anything over
  ``MAX_BLOCKSIZE`` (256 bytes, CryptoEngine.h) unencrypted, so no honest packet is longer. The
  keystream is made here from one AES block encryptor per channel, built once: a new CTR
  context per packet cost more than the rest of decoding an envelope.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from relay.sim.meshrules import channel_hash, expand_psk

MAX_BLOCKSIZE = 256  # CryptoEngine.h: the longest payload the firmware encrypts
PSK_MAX = 32  # channel.options: ChannelSettings.psk max_size
NAME_MAX = 11  # channel.options: ChannelSettings.name max_size 12, with its terminating NUL
TOPIC_UNSAFE = frozenset("/+#\0")  # the name is one MQTT topic level (MQTT.cpp: cryptTopic + id)


def aes_ctr(key: bytes, nonce: bytes, data: bytes) -> bytes:
    """AES-CTR of ``data`` under a 16- or 32-byte key and a 16-byte initial counter block, the
    counter being the block's last four bytes (big-endian, wrapping: ``setCounterSize(4)``)."""
    return _ctr(_ecb(key), nonce, data)


def _ecb(key: bytes) -> Any:
    """A reusable AES block encryptor (the keystream is AES of the counter blocks)."""
    if len(key) not in (16, 32):
        raise ValueError(f"an AES key is 16 or 32 bytes, not {len(key)}")
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # the CTR keystream, block by block


def _ctr(ecb: Any, nonce: bytes, data: bytes) -> bytes:
    if len(nonce) != 16:
        raise ValueError(f"an AES-CTR nonce is 16 bytes, not {len(nonce)}")
    if not data:
        return b""
    prefix, first = nonce[:12], int.from_bytes(nonce[12:], "big")
    blocks = b"".join(
        prefix + ((first + i) & 0xFFFFFFFF).to_bytes(4, "big") for i in range(-(-len(data) // 16))
    )
    stream = ecb.update(blocks)[: len(data)]
    mixed = int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")
    return mixed.to_bytes(len(data), "big")


def packet_nonce(sender: int, packet_id: int) -> bytes:
    """``CryptoEngine::initNonce``: id as uint64 LE, sender as uint32 LE, then four zero bytes."""
    if not 0 <= packet_id <= 0xFFFFFFFF or not 0 <= sender <= 0xFFFFFFFF:
        raise ValueError("a packet id and a node number are 32-bit unsigned")
    return struct.pack("<QII", packet_id, sender, 0)


@dataclass(frozen=True)
class ChannelKey:
    """One Meshtastic channel as a radio holds it: its name, the key its PSK expands to, its hash.

    Build it with :meth:`from_psk` (the PSK bytes exactly as in ``ChannelSettings.psk``) or
    :meth:`from_base64`. The key never appears in ``repr``. One instance holds one AES block
    encryptor: use it from one thread (the event loop) at a time.
    """

    name: str
    key: bytes = field(repr=False)  # expanded: b"" (no encryption), 16 or 32 bytes
    hash: int  # Channels::generateHash, 0..255
    _ecb: Any = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.key:  # one block cipher per channel, reused for every packet
            object.__setattr__(self, "_ecb", _ecb(self.key))

    @classmethod
    def from_psk(cls, name: str, psk: bytes) -> ChannelKey:
        """The channel ``name`` with the PSK bytes of its settings; ValueError if invalid."""
        check_channel_name(name)
        if len(psk) > PSK_MAX:
            raise ValueError(f"a channel PSK is at most {PSK_MAX} bytes, not {len(psk)}")
        return cls(name, expand_psk(bytes(psk)), channel_hash(name, bytes(psk)))

    @classmethod
    def from_base64(cls, name: str, text: str) -> ChannelKey:
        """The PSK as the apps and ``meshtastic --ch-set psk base64:...`` write it ("AQ==")."""
        body = text.strip().removeprefix("base64:")
        try:
            psk = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the channel PSK is not valid base64") from None
        return cls.from_psk(name, psk)

    @property
    def encrypted(self) -> bool:
        """False for a channel whose PSK turns encryption off (firmware: key length 0)."""
        return bool(self.key)

    def crypt(self, sender: int, packet_id: int, data: bytes) -> bytes:
        """Encrypt or decrypt one packet's Data bytes (``CryptoEngine::encryptPacket``)."""
        if len(data) > MAX_BLOCKSIZE:
            size = len(data)
            raise ValueError(f"the firmware encrypts at most {MAX_BLOCKSIZE} bytes, not {size}")
        nonce = packet_nonce(sender, packet_id)
        return _ctr(self._ecb, nonce, data) if self.key else bytes(data)


def check_channel_name(name: str) -> None:
    """ValueError unless ``name`` can be a channel's name and an MQTT topic level."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("a channel name is UTF-8 text; this one holds a lone surrogate") from None
    if not 1 <= size <= NAME_MAX:
        raise ValueError(f"a channel name is 1 to {NAME_MAX} bytes of UTF-8, not {size}")
    if any(ch in TOPIC_UNSAFE for ch in name):
        raise ValueError("a channel name used in MQTT topics cannot hold '/', '+', '#' or NUL")
