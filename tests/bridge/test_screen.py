"""The bridge on the UI's mesh screen: its line, and its error rendered inert."""

from __future__ import annotations

from tui.screens.mesh import mesh_text


def test_the_mesh_screen_shows_the_bridge_and_its_error_inert() -> None:
    status = {"link": {"state": "up"},
              "bridge": {"url": "mqtts://gw-a@broker:8883/kz", "state": "down", "since": 0,
                         "queued": 3, "sent": 0, "received": 0, "rejected": 0,
                         "last_error": "refused [b]\x1b[31mred"}}  # fmt: skip
    text = mesh_text(status, "en", 0.0)
    assert "mqtts://gw-a@broker:8883/kz" in text and "down" in text and "3" in text
    assert "\x1b" not in text and "\\[b]" in text  # markup and terminal codes inert
    assert "mqtts://" not in mesh_text({"link": {"state": "up"}, "bridge": None}, "en", 0.0)
