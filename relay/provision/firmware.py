"""Facts about Meshtastic firmware 2.7.x that provisioning relies on (checked in its sources).

Pure data, shared by validation (:mod:`relay.provision.schema`), the ``jarshy radio`` commands
and the emulator's admin handler (:mod:`relay.radio.admin`), so the emulator and the checks agree.

- ``src/mesh/RadioInterface.cpp`` (region table): the power cap the firmware applies when
  ``lora.tx_power`` is 0 or higher than the cap, and writes back into the config.
- ``src/mesh/NodeDB.cpp`` ``installRoleDefaults``: on a *change* of role, ROUTER sets
  ``rebroadcast_mode = CORE_PORTNUMS_ONLY`` (the ROUTER trap) and resets broadcast intervals;
  ROUTER_LATE only sets the telemetry interval to a day and marks the owner unmessagable, and keeps
  the rebroadcast mode it was given; CLIENT_HIDDEN sets LOCAL_ONLY.
- ``src/mesh/Router.cpp``: with CORE_PORTNUMS_ONLY a decoded packet on any other port is neither
  handed to the phone nor relayed.
- ``src/modules/AdminModule.cpp``: set_* edits apply to the running config at once; inside a
  begin/commit transaction saving waits for the commit, and ``commit_edit_settings`` calls
  ``saveChanges`` whose ``shouldReboot`` defaults to true: ``reboot(DEFAULT_REBOOT_SECONDS)``, 7 s
  (``src/configuration.h``). At boot the serial console sends ``FromRadio.rebooted``
  (``src/SerialConsole.cpp``) and ``MyNodeInfo.reboot_count`` goes up.
- ``src/mesh/RadioInterface.cpp`` ``initRegion``: a region code missing from the firmware's
  ``regions[]`` falls through to UNSET (the radio does not transmit).
"""

from __future__ import annotations

REGION_POWER_LIMIT_DBM: dict[str, int] = {
    "US": 30, "EU_433": 10, "EU_868": 27, "CN": 19, "JP": 13, "ANZ": 30, "ANZ_433": 14,
    "RU": 20, "KR": 23, "TW": 27, "IN": 30, "NZ_865": 36, "TH": 27, "UA_433": 10, "UA_868": 14,
    "MY_433": 20, "MY_919": 27, "SG_923": 20, "PH_433": 10, "PH_868": 14, "PH_915": 24,
    "KZ_433": 10, "KZ_863": 30, "NP_865": 30, "BR_902": 30, "LORA_24": 10, "UNSET": 30,
}  # fmt: skip
"""The firmware's transmit power cap per region (dBm, conducted), as of 2.7.26."""

REGION_DUTY_CYCLE_PERCENT: dict[str, int] = {
    "EU_433": 10, "EU_868": 10, "TH": 10, "UA_433": 10, "UA_868": 1,
}  # fmt: skip
"""Regions where the firmware enforces an hourly duty cycle (the rest: 100 %)."""

CORE_PORTNUMS = frozenset({1, 7, 3, 4, 5, 67, 6, 11, 12, 8, 65, 70, 35})
"""Ports CORE_PORTNUMS_ONLY still handles: text, compressed text, position, nodeinfo, routing,
telemetry, admin, alert, key verification, waypoint, store & forward, traceroute, S&F++."""

MIN_NODE_INFO_BROADCAST_SECS = 3600
"""The firmware raises a lower ``device.node_info_broadcast_secs`` to this."""

DEPRECATED_ROLES = {"ROUTER_CLIENT": "CLIENT", "REPEATER": "CLIENT"}
"""Roles the firmware replaces on write (so a read-back would never match)."""

REBOOT_AFTER_COMMIT_SECS = 7
"""A real radio reboots this long after commit_edit_settings."""


REGION_SINCE: dict[str, str] = {
    "ANZ_433": "2.7.0", "PH_433": "2.5.6", "PH_868": "2.5.6", "PH_915": "2.5.6",
    "KZ_433": "2.7.1", "KZ_863": "2.7.1", "NP_865": "2.7.4", "BR_902": "2.7.4",
}  # fmt: skip
"""The first release whose ``regions[]`` lists the region (tags v2.3.0 to v2.7.26 searched); the
other regions are in every release from 2.3.0 on."""

KZ_863_FIXED = "2.7.18"
"""Before this release KZ_863 was a wide-LoRa region (LongFast at 812.5 kHz instead of 250 kHz,
RadioInterface.cpp; "KZ_863 is not wide lora", #9075): such radios cannot talk to others."""

FLASHER = "https://flasher.meshtastic.org"


def region_refusal(region: str, firmware: str | None) -> str | None:
    """Why a radio on ``firmware`` must not be set to ``region`` (with what to do), or None."""
    version = version_tuple(firmware or "")
    if len(version) < 2:
        return None  # unknown version: nothing to hold against it
    shown = ".".join(map(str, version))
    since = REGION_SINCE.get(region)
    if since is not None and version < version_tuple(since):
        return (
            f"the radio runs firmware {shown}, which does not know region {region} (added in "
            f"{since}): it would fall back to UNSET and stop transmitting. Update the firmware "
            f"({FLASHER}) and run this again"
        )
    if region == "KZ_863" and version < version_tuple(KZ_863_FIXED):
        return (
            f"the radio runs firmware {shown}: before {KZ_863_FIXED} the firmware used the 2.4 GHz "
            "bandwidths in KZ_863 (LongFast at 812.5 kHz instead of 250 kHz), so it cannot talk "
            f"to other KZ_863 radios. Update the firmware to {KZ_863_FIXED} or later ({FLASHER}) "
            "and run this again"
        )
    return None


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2.7.15.567b8ea"`` -> ``(2, 7, 15)``; unparseable parts end the tuple."""
    parts: list[int] = []
    for part in version.split(".")[:3]:
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)
