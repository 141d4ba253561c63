"""Bridges between meshes over IP: the MQTT link (trusted bulletins only) and Meshtastic's MQTT envelopes."""
