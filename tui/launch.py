"""Starting the app from the command line, once the CLI has settled the config."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jumpdeck.core.config import Config


def launch_app(config: Config, *, start_mode: str = "servers") -> int:
    from jumpdeck.tui.app import JumpdeckApp

    app = JumpdeckApp(config, start_mode=start_mode)
    result = app.run()
    return result if isinstance(result, int) else 0
