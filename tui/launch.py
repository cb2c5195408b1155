"""Starting the app from the command line: settle the config (a bad value is one
sentence and exit 2), then run Textual."""

from __future__ import annotations

import argparse
import sys


def launch_app(args: argparse.Namespace, *, start_mode: str = "servers") -> int:
    from jumpdeck.core.errors import ConfigError
    from jumpdeck.tui.cli import config_from_args

    try:
        config = config_from_args(args)
    except ConfigError as error:
        print(f"jumpdeck: {error}", file=sys.stderr)
        return 2
    from jumpdeck.tui.app import JumpdeckApp

    app = JumpdeckApp(config, start_mode=start_mode)
    result = app.run()
    return result if isinstance(result, int) else 0
