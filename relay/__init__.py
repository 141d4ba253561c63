"""Jarshy relay: signed bulletins over a LoRa mesh (protocol core, storage, radio, daemon)."""

__version__ = "0.1.0"
