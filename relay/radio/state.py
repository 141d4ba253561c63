"""What an emulated radio remembers: owner, config, channels, metadata and its node database.

The handshake reads everything from one :class:`RadioState`, so admin edits (set_config,
set_channel, set_owner, begin/commit edit settings) only have to change this object. Admin
messages reach an :class:`AdminHandler`; :class:`BasicAdminHandler` answers the read-only
requests and is the place to extend for provisioning.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from meshtastic.protobuf import (
    admin_pb2,
    channel_pb2,
    config_pb2,
    localonly_pb2,
    mesh_pb2,
)

from relay.provision.firmware import REGION_POWER_LIMIT_DBM

DEFAULT_PSK = bytes([1])  # "default key" marker, as the firmware ships it
MAX_CHANNELS = 8
FIRMWARE_VERSION = "2.7.18.emulated"  # the oldest release KZ_863 interoperates with
DEFAULT_NODE_INFO_SECS = 3 * 3600  # default_node_info_broadcast_secs (Default.h)


@dataclass
class NodeSeen:
    """One other node this radio has heard."""

    num: int
    user: Any = None  # mesh_pb2.User or None
    snr: float = 0.0
    hops_away: int = 0
    last_heard: int = 0  # unix seconds


@dataclass
class RadioState:
    """All persistent state of one emulated radio (guarded by ``lock``)."""

    node_num: int
    owner: Any  # mesh_pb2.User
    config: Any  # localonly_pb2.LocalConfig
    module_config: Any  # localonly_pb2.LocalModuleConfig
    channels: list[Any]  # channel_pb2.Channel, exactly MAX_CHANNELS
    metadata: Any  # mesh_pb2.DeviceMetadata
    nodes: dict[int, NodeSeen] = field(default_factory=dict)
    ignored: set[int] = field(default_factory=set)  # set_ignored_node: dropped on receive
    lock: threading.RLock = field(default_factory=threading.RLock)
    editing: bool = False  # inside begin_edit_settings / commit_edit_settings
    reboot_count: int = 1
    canned_messages: str = ""  # the canned-message module's list ("" when never set)
    ringtone: str = ""  # the external-notification module's RTTTL tune

    @classmethod
    def create(
        cls,
        node_num: int,
        *,
        long_name: str | None = None,
        short_name: str | None = None,
        region: str = "EU_868",
        preset: str = "LONG_FAST",
        role: str = "CLIENT",
        hop_limit: int = 3,
        tx_power: int = 0,
        channel_name: str = "",
        psk: bytes = DEFAULT_PSK,
        hw_model: str = "PORTDUINO",
        firmware_version: str = FIRMWARE_VERSION,
    ) -> RadioState:
        """A freshly flashed radio with these settings."""
        if not 0 < node_num < 0xFFFFFFFF:
            raise ValueError(f"node number must be in 1..0xfffffffe, not {node_num}")
        suffix = f"{node_num:08x}"[-4:]
        owner = mesh_pb2.User(
            id=f"!{node_num:08x}",
            long_name=long_name or f"Meshtastic {suffix}",
            short_name=short_name or suffix,
            hw_model=mesh_pb2.HardwareModel.Value(hw_model),
        )
        config = default_config()
        lora = config.lora
        lora.modem_preset = config_pb2.Config.LoRaConfig.ModemPreset.Value(preset)
        lora.region = config_pb2.Config.LoRaConfig.RegionCode.Value(region)
        lora.hop_limit = hop_limit
        lora.tx_power = tx_power or REGION_POWER_LIMIT_DBM.get(region, 30)  # applyModemConfig
        device = config.device
        device.role = config_pb2.Config.DeviceConfig.Role.Value(role)
        if role == "ROUTER":  # the firmware's role defaults; ROUTER_LATE keeps ALL
            device.rebroadcast_mode = config_pb2.Config.DeviceConfig.CORE_PORTNUMS_ONLY
        module_config = localonly_pb2.LocalModuleConfig()
        channels = default_channels(channel_name, psk)
        metadata = mesh_pb2.DeviceMetadata(
            firmware_version=firmware_version,
            device_state_version=23,
            canShutdown=True,
            hasWifi=False,
            hasBluetooth=False,
            hasEthernet=False,
            role=device.role,
            hw_model=owner.hw_model,
            hasRemoteHardware=False,
            hasPKC=True,  # every build with PKI (getDeviceMetadata in src/mesh/NodeDB.cpp)
        )
        return cls(node_num, owner, config, module_config, channels, metadata)

    def heard_from(self, packet: Any, data: Any, snr: float) -> None:
        """``NodeDB::updateFrom``: a decoded packet (``data``) from a node; NodeInfo names it."""
        sender = getattr(packet, "from")
        with self.lock:
            seen = self.nodes.get(sender) or NodeSeen(num=sender)
            seen.snr = snr
            seen.hops_away = max(packet.hop_start - packet.hop_limit, 0)
            seen.last_heard = int(time.time())
            if data.portnum == 4:  # NODEINFO_APP
                user = mesh_pb2.User()
                try:
                    user.ParseFromString(data.payload)
                    seen.user = user
                except Exception:  # a neighbour's garbage: keep what we knew
                    pass
            self.nodes[sender] = seen

    def factory_reset(self) -> None:
        """``NodeDB::factoryReset``: the firmware's default config, channels, owner and an
        empty node database; node number and hardware stay (called under ``lock``)."""
        suffix = f"{self.node_num:08x}"[-4:]
        self.owner.long_name = f"Meshtastic {suffix}"
        self.owner.short_name = suffix
        self.owner.is_licensed = False
        self.owner.ClearField("is_unmessagable")
        self.config.CopyFrom(default_config())
        self.config.lora.tx_power = REGION_POWER_LIMIT_DBM["UNSET"]
        self.module_config.CopyFrom(localonly_pb2.LocalModuleConfig())
        self.channels[:] = default_channels("", DEFAULT_PSK)
        self.metadata.role = self.config.device.role
        self.nodes.clear()
        self.ignored.clear()
        self.canned_messages = self.ringtone = ""

    # Read helpers used by the firmware logic.
    def enum_name(self, section: str, attr: str) -> str:
        """Name of an enum field of a config section, e.g. ``("lora", "region") -> "EU_868"``."""
        message = getattr(self.config, section)
        fd = message.DESCRIPTOR.fields_by_name[attr]
        name: str = fd.enum_type.values_by_number[getattr(message, attr)].name
        return name

    def my_info(self) -> Any:
        """The ``my_info`` record of the handshake."""
        return mesh_pb2.MyNodeInfo(
            my_node_num=self.node_num, reboot_count=self.reboot_count, min_app_version=30200
        )

    def own_node_info(self) -> Any:
        """The radio's own ``node_info`` record."""
        info = mesh_pb2.NodeInfo(num=self.node_num, last_heard=int(time.time()), is_favorite=True)
        info.user.CopyFrom(self.owner)
        return info

    def other_node_infos(self) -> list[Any]:
        """``node_info`` records of every other node heard."""
        out = []
        for seen in self.nodes.values():
            info = mesh_pb2.NodeInfo(
                num=seen.num, snr=seen.snr, last_heard=seen.last_heard, hops_away=seen.hops_away
            )
            if seen.user is not None:
                info.user.CopyFrom(seen.user)
            else:
                suffix = f"{seen.num:08x}"[-4:]
                info.user.id = f"!{seen.num:08x}"
                info.user.long_name = f"Meshtastic {suffix}"
                info.user.short_name = suffix
            out.append(info)
        return out

    def config_sections(self) -> list[Any]:
        """One ``Config`` message per section of the local config, in field order."""
        out = []
        for fd in self.config.DESCRIPTOR.fields:
            if fd.message_type is None:
                continue
            cfg = config_pb2.Config()
            getattr(cfg, fd.name).CopyFrom(getattr(self.config, fd.name))
            out.append(cfg)
        return out

    def module_config_sections(self) -> list[Any]:
        """One ``ModuleConfig`` message per section of the local module config."""
        from meshtastic.protobuf import module_config_pb2

        out = []
        target_fields = module_config_pb2.ModuleConfig.DESCRIPTOR.fields_by_name
        for fd in self.module_config.DESCRIPTOR.fields:
            if fd.message_type is None or fd.name not in target_fields:
                continue
            cfg = module_config_pb2.ModuleConfig()
            getattr(cfg, fd.name).CopyFrom(getattr(self.module_config, fd.name))
            out.append(cfg)
        return out


def default_config() -> Any:
    """``NodeDB::installDefaultConfig`` for the fields a client sees (region UNSET, LONG_FAST,
    hop limit 3, rebroadcast ALL, serial console on, NodeInfo every 3 h)."""
    config = localonly_pb2.LocalConfig()
    config.version = 23
    lora = config.lora
    lora.use_preset = True
    lora.modem_preset = config_pb2.Config.LoRaConfig.LONG_FAST
    lora.region = config_pb2.Config.LoRaConfig.UNSET
    lora.hop_limit = 3  # HOP_RELIABLE
    lora.tx_enabled = True
    lora.sx126x_rx_boosted_gain = True
    config.device.role = config_pb2.Config.DeviceConfig.CLIENT
    config.device.rebroadcast_mode = config_pb2.Config.DeviceConfig.ALL
    config.device.node_info_broadcast_secs = DEFAULT_NODE_INFO_SECS
    config.security.serial_enabled = True
    config.security.admin_channel_enabled = False
    config.network.ntp_server = "meshtastic.pool.ntp.org"
    return config


def default_channels(name: str, psk: bytes) -> list[Any]:
    """Channel 0 primary (the public default key unless told), the seven others disabled."""
    channels = []
    for index in range(MAX_CHANNELS):
        ch = channel_pb2.Channel(index=index)
        if index == 0:
            ch.role = channel_pb2.Channel.Role.PRIMARY
            ch.settings.name = name
            ch.settings.psk = psk
        else:
            ch.role = channel_pb2.Channel.Role.DISABLED
        channels.append(ch)
    return channels


class AdminHandler(Protocol):
    """Handles one AdminMessage sent to the local node; returns the reply, if any."""

    def handle_admin(self, state: RadioState, message: Any, packet: Any) -> Any | None:
        """``message`` is an admin_pb2.AdminMessage, ``packet`` the MeshPacket carrying it."""
        ...


class BasicAdminHandler:
    """Answers the read requests (owner, channel, config, metadata, session key); ignores edits.

    Provisioning support (set_config, set_channel, set_owner, begin/commit edit) belongs in a
    subclass or a replacement handler that mutates :class:`RadioState` under its lock.
    """

    def handle_admin(self, state: RadioState, message: Any, packet: Any) -> Any | None:
        """Reply to read-only admin requests from ``state``."""
        variant = message.WhichOneof("payload_variant")
        reply = admin_pb2.AdminMessage()
        if variant == "get_owner_request":
            reply.get_owner_response.CopyFrom(state.owner)
        elif variant == "get_channel_request":
            index = message.get_channel_request - 1
            if not 0 <= index < MAX_CHANNELS:
                return None
            reply.get_channel_response.CopyFrom(state.channels[index])
        elif variant == "get_config_request":
            section = config_pb2.Config.DESCRIPTOR.fields[message.get_config_request]
            if section.name in state.config.DESCRIPTOR.fields_by_name:
                getattr(reply.get_config_response, section.name).CopyFrom(
                    getattr(state.config, section.name)
                )
            else:
                getattr(reply.get_config_response, section.name).SetInParent()
        elif variant == "get_device_metadata_request":
            reply.get_device_metadata_response.CopyFrom(state.metadata)
        else:
            return None
        reply.session_passkey = b"\x00" * 8
        return reply
