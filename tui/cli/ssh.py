"""`jumpdeck ssh [USER@]HOST [-p PORT] [-i KEY]`: open the app straight on a session."""

from __future__ import annotations

import argparse
import sys

from jumpdeck.tui.cli.inputs import whole_number


def register(sub: argparse._SubParsersAction) -> None:
    ssh = sub.add_parser("ssh", help="open jumpdeck on an SSH session to HOST",
                         description="Open the app on the SSH screen with a session to [USER@]HOST. Host keys are "
                         "checked against ~/.ssh/known_hosts and jumpdeck's own known_hosts; an unknown key "
                         "asks you to confirm its SHA256 fingerprint, a changed key is refused.")
    ssh.add_argument("destination", metavar="[USER@]HOST")
    ssh.add_argument("-p", "--port", type=whole_number(1, 65535, "a port number"), default=None, help="port (default 22)")
    ssh.add_argument("-i", "--identity", metavar="KEY", help="private key file (default: ssh-agent and ~/.ssh keys)")
    ssh.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from jumpdeck.core.errors import ConfigError, JumpdeckError
    from jumpdeck.core.ssh import parse_destination
    from jumpdeck.tui.cli import config_from_args, exit_code_for, print_error

    try:
        target = parse_destination(args.destination, port=args.port, key_file=args.identity)
        config = config_from_args(args)
    except JumpdeckError as error:
        print_error(error)
        return exit_code_for(error)
    if target.auth.key_file is not None and not target.auth.key_file.is_file():
        print(f"jumpdeck: The key file {target.auth.key_file} does not exist.", file=sys.stderr)
        return 2
    from jumpdeck.tui.app import JumpdeckApp

    app = JumpdeckApp(config, start_mode="ssh")
    app.ssh_pending = [target]  # the SSH screen opens these when it mounts
    result = app.run()
    return result if isinstance(result, int) else 0
