"""Radio provisioning: role profiles and region overlays (``firmware_config/``), validated
(:mod:`~relay.provision.schema`), merged (:mod:`~relay.provision.profiles`), written and read back
through the meshtastic library (:mod:`~relay.provision.apply`), reported (:mod:`~relay.provision.report`).
"""
