"""The screens besides the feed: bulletin, compose, keys & trust, mesh, help (and two dialogs)."""

from tui.screens.base import BaseScreen, api_failure
from tui.screens.bulletin import BulletinScreen
from tui.screens.compose import ComposeScreen
from tui.screens.keys import KeysScreen
from tui.screens.mesh import HelpScreen, MeshScreen

__all__ = ["BaseScreen", "BulletinScreen", "ComposeScreen", "HelpScreen", "KeysScreen",
           "MeshScreen", "api_failure"]  # fmt: skip
