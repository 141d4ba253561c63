"""Radio role profiles, region overlays and the systemd unit, shipped as package data."""
