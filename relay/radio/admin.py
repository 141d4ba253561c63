"""Admin messages an emulated radio accepts, as firmware does: set config, module config,
channel and owner (inside begin/commit edit settings or not), so provisioning is tested through
the real meshtastic library.  Changes go to :class:`RadioState` and show in the next handshake.
"""

from __future__ import annotations

from typing import Any

from relay.radio.state import MAX_CHANNELS, BasicAdminHandler, RadioState

ROUTER = 2  # config_pb2.Config.DeviceConfig.Role.ROUTER
CORE_PORTNUMS_ONLY = 5  # ...RebroadcastMode.CORE_PORTNUMS_ONLY


class ProvisioningAdminHandler(BasicAdminHandler):
    """Reads (from BasicAdminHandler) plus writes, applied under the state's lock."""

    def __init__(self) -> None:
        self.edits = 0  # committed edit transactions, for tests
        self.open_transaction = False

    def handle_admin(self, state: RadioState, message: Any, packet: Any) -> Any | None:
        variant = message.WhichOneof("payload_variant")
        with state.lock:
            if variant == "begin_edit_settings":
                self.open_transaction = True
                return None
            if variant == "commit_edit_settings":
                self.open_transaction = False
                self.edits += 1
                return None
            if variant == "set_config":
                section = message.set_config.WhichOneof("payload_variant")
                if section is None:
                    return None
                new = getattr(message.set_config, section)
                old_role = state.config.device.role
                getattr(state.config, section).CopyFrom(new)
                if section == "device" and new.role == ROUTER and old_role != ROUTER:
                    # Firmware installs the ROUTER role's defaults: the trap Jarshy avoids.
                    state.config.device.rebroadcast_mode = CORE_PORTNUMS_ONLY
                return None
            if variant == "set_module_config":
                section = message.set_module_config.WhichOneof("payload_variant")
                if section is not None:
                    getattr(state.module_config, section).CopyFrom(
                        getattr(message.set_module_config, section)
                    )
                return None
            if variant == "set_channel":
                index = message.set_channel.index
                if 0 <= index < MAX_CHANNELS:
                    state.channels[index].CopyFrom(message.set_channel)
                return None
            if variant == "set_owner":
                owner = message.set_owner
                if owner.long_name:
                    state.owner.long_name = owner.long_name
                if owner.short_name:
                    state.owner.short_name = owner.short_name
                return None
        return super().handle_admin(state, message, packet)
