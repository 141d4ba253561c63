"""Admin messages an emulated radio accepts, as firmware 2.7 does, so provisioning is tested
through the real meshtastic library: set_config, set_module_config, set_channel, set_owner and
begin/commit edit settings. Changes land in :class:`RadioState` and show in the next handshake.

Firmware behaviour kept (``src/modules/AdminModule.cpp``, ``src/mesh/NodeDB.cpp``): an edit
changes the running config at once; a *change* of role installs that role's defaults (ROUTER:
``CORE_PORTNUMS_ONLY`` and default intervals, the ROUTER trap); NONE is refused for router roles;
``node_info_broadcast_secs`` is raised to an hour; deprecated roles become CLIENT. Saving and
reloading the radio (``tx_power`` 0 or above the region's cap becomes the cap) wait for the commit
inside a transaction, else happen after each edit. The emulated radio reboots 7 s after a commit,
as a real one does (:mod:`relay.radio.emu_phone`); an ``on_commit`` hook, when set, replaces that
reboot (tests use it to reboot or re-enumerate on their own schedule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshtastic.protobuf import config_pb2

from relay.provision.firmware import (
    DEPRECATED_ROLES,
    MIN_NODE_INFO_BROADCAST_SECS,
    REGION_POWER_LIMIT_DBM,
)
from relay.radio.state import MAX_CHANNELS, BasicAdminHandler, RadioState

Role = config_pb2.Config.DeviceConfig.Role
Mode = config_pb2.Config.DeviceConfig.RebroadcastMode
ONE_DAY = 24 * 3600
ROUTER_INTERVAL = ONE_DAY // 2  # IF_ROUTER(ONE_DAY / 2, ...) in Default.h
MAX_INTERVAL = 2**31 - 1


def install_role_defaults(state: RadioState, role: int) -> None:
    """NodeDB::installRoleDefaults for the roles a Jarshy deployment meets."""
    config, modules, owner = state.config, state.module_config, state.owner
    if role == Role.ROUTER:
        config.position.position_broadcast_secs = ROUTER_INTERVAL
        config.device.node_info_broadcast_secs = 3 * 3600
        modules.telemetry.device_update_interval = ROUTER_INTERVAL
        config.device.rebroadcast_mode = Mode.CORE_PORTNUMS_ONLY
        owner.is_unmessagable = True
    elif role == Role.ROUTER_LATE:
        modules.telemetry.device_update_interval = ONE_DAY
        owner.is_unmessagable = True
    elif role == Role.CLIENT_HIDDEN:
        config.device.rebroadcast_mode = Mode.LOCAL_ONLY
        config.device.node_info_broadcast_secs = MAX_INTERVAL
        config.position.position_broadcast_smart_enabled = False
        config.position.position_broadcast_secs = MAX_INTERVAL
        modules.telemetry.device_update_interval = MAX_INTERVAL


class ProvisioningAdminHandler(BasicAdminHandler):
    """Reads (from :class:`BasicAdminHandler`) plus writes; called under ``state.lock``."""

    def __init__(self, on_commit: Callable[[], None] | None = None) -> None:
        self.on_commit = on_commit
        self.in_transaction = False
        self.writes = 0  # set_* messages accepted (for tests: 0 means nothing was written)
        self.commits = 0  # committed edit transactions
        self.saves = 0  # times the settings were saved and reloaded

    def handle_admin(self, state: RadioState, message: Any, packet: Any) -> Any | None:
        """Apply an edit, or answer a read."""
        variant = message.WhichOneof("payload_variant")
        if variant == "begin_edit_settings":
            self.in_transaction = True
        elif variant == "commit_edit_settings":
            self.in_transaction = False
            self.commits += 1
            self._save(state)
            if self.on_commit is not None:
                self.on_commit()
        elif variant == "set_config":
            self._set_config(state, message.set_config)
        elif variant == "set_module_config":
            section = message.set_module_config.WhichOneof("payload_variant")
            if section is not None:
                new = getattr(message.set_module_config, section)
                getattr(state.module_config, section).CopyFrom(new)
                self._edited(state)
        elif variant == "set_channel":
            if 0 <= message.set_channel.index < MAX_CHANNELS:
                state.channels[message.set_channel.index].CopyFrom(message.set_channel)
                self._edited(state)
        elif variant == "set_owner":
            self._set_owner(state, message.set_owner)
        elif variant == "set_ignored_node":
            state.ignored.add(message.set_ignored_node)
            self.writes += 1
        elif variant == "remove_ignored_node":
            state.ignored.discard(message.remove_ignored_node)
            self.writes += 1
        else:
            return super().handle_admin(state, message, packet)
        return None

    def _set_config(self, state: RadioState, config: Any) -> None:
        section = config.WhichOneof("payload_variant")
        if section is None or section not in state.config.DESCRIPTOR.fields_by_name:
            return
        if section == "device":
            device = state.config.device
            old_role = device.role
            device.CopyFrom(config.device)
            if device.rebroadcast_mode == Mode.NONE and device.role in (
                Role.ROUTER,
                Role.ROUTER_LATE,
            ):
                device.rebroadcast_mode = Mode.ALL
            if device.role != old_role:
                install_role_defaults(state, device.role)
            device.node_info_broadcast_secs = max(
                device.node_info_broadcast_secs, MIN_NODE_INFO_BROADCAST_SECS
            )
            if Role.Name(device.role) in DEPRECATED_ROLES:
                device.role = Role.CLIENT
            state.metadata.role = device.role
        else:
            getattr(state.config, section).CopyFrom(getattr(config, section))
        self._edited(state)

    def _set_owner(self, state: RadioState, user: Any) -> None:
        if user.long_name:
            state.owner.long_name = user.long_name[:39]
        if user.short_name:
            state.owner.short_name = user.short_name[:4]
        state.owner.is_licensed = user.is_licensed
        if user.HasField("is_unmessagable"):
            state.owner.is_unmessagable = user.is_unmessagable
        self._edited(state)

    def _edited(self, state: RadioState) -> None:
        self.writes += 1
        if not self.in_transaction:
            self._save(state)

    def _save(self, state: RadioState) -> None:
        """Save and reload, as ``service->reloadConfig``: the radio applies the LoRa power cap."""
        self.saves += 1
        lora = state.config.lora
        region = config_pb2.Config.LoRaConfig.RegionCode.Name(lora.region)
        cap = REGION_POWER_LIMIT_DBM.get(region, 30)
        if lora.tx_power == 0 or (lora.tx_power > cap and not state.owner.is_licensed):
            lora.tx_power = cap
