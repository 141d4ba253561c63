"""Radio edge of Jarshy: the asyncio adapter over the meshtastic library and a radio emulator.

- :mod:`relay.radio.link` — :class:`RadioLink`, the one place meshtastic's threads meet asyncio.
- :mod:`relay.radio.emulator` — a fake Meshtastic firmware (client API over a pty or TCP).
- :mod:`relay.radio.medium` — the shared air emulated radios hear each other through.
"""
