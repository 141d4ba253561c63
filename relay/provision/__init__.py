"""Radio provisioning: role profiles and region overlays (firmware_config/), validated, applied."""
