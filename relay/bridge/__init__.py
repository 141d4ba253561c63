"""Bridges between meshes over IP: the MQTT link (trusted bulletins only, docs/bridge.md) and
Meshtastic's MQTT envelopes (docs/meshtastic-mqtt.md)."""
