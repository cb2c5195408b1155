"""The `jumpdeck` command line: a face over core, like the TUI.

Each command group lives in its own module with a `register(subparsers)` function;
handlers are `async def handler(args, ctx) -> int`. Imports stay inside handlers so
`jumpdeck --help` and the app's first frame pay only for what they use.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from typing import Any, Awaitable, Callable

from jumpdeck.core.errors import ConfigError, JumpdeckError, StoreUnreachable, ValidationError

# Command modules, in the order `jumpdeck --help` lists them.
COMMAND_MODULES = [
    "jumpdeck.tui.cli.servers",
    "jumpdeck.tui.cli.check",
    "jumpdeck.tui.cli.watch",
    "jumpdeck.tui.cli.users",
    "jumpdeck.tui.cli.settings",
    "jumpdeck.tui.cli.activity",
    "jumpdeck.tui.cli.keys",
    "jumpdeck.tui.cli.production",
    "jumpdeck.tui.cli.maintenance",
    "jumpdeck.tui.cli.monitor",
    "jumpdeck.tui.cli.notify",
    "jumpdeck.tui.cli.provision",
    "jumpdeck.tui.cli.ssh",
    "jumpdeck.tui.cli.serve",
]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one sentence (its default), never a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"jumpdeck: {message}. Add --help to see the options.\n")


def add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", help="data directory (default: platform data dir, or $JUMPDECK_HOME)")
    parser.add_argument("--store-url", help="shared PostgreSQL store URL (default: SQLite in the data dir)")
    parser.add_argument("--demo", action="store_true", help="use the embedded demo data dir (never the real store)")


def build_parser() -> Parser:
    parser = Parser(
        prog="jumpdeck",
        description="A keyboard-driven console for DB fleets, provisioning, SSH, charts and maintenance. "
        "Without a command, opens the app.",
    )
    add_global_options(parser)
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


class _VersionAction(argparse.Action):
    """--version, reading the installed version only when asked: importlib.metadata
    (and the email package under it) would cost every start of the app."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        # On stdout, as `--version` of other tools is, so `$(jumpdeck --version)` works.
        print(f"jumpdeck {_version()}")
        parser.exit()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("jumpdeck")
    except Exception:
        return "0+unknown"


def config_from_args(args: argparse.Namespace):
    from jumpdeck.core.config import load_config

    return load_config(cli={"home": args.home, "store_url": args.store_url}, demo=args.demo)


def print_error(error: BaseException) -> None:
    print(f"jumpdeck: {error}", file=sys.stderr)


def exit_code_for(error: JumpdeckError) -> int:
    return EXIT_USAGE if isinstance(error, (ConfigError, ValidationError, StoreUnreachable)) else EXIT_FAIL


Handler = Callable[[argparse.Namespace, Any], Awaitable[int]]


def run_with_context(args: argparse.Namespace, handler: Handler) -> int:
    """Open the context, run the handler, turn every expected error into a sentence."""

    async def go(config) -> int:  # noqa: ANN001 - Config
        from jumpdeck.core.serve.face_context import open_face_context

        if getattr(args, "demo", False):
            from jumpdeck.core.demo import ensure_demo

            await ensure_demo(config)
        ctx = await open_face_context(config)
        try:
            if ctx.store.degraded:
                print(f"jumpdeck: warning: {ctx.store.degraded_reason}.", file=sys.stderr)
            if ctx.log_problem:
                print(f"jumpdeck: warning: {ctx.log_problem}.", file=sys.stderr)
            return await handler(args, ctx)
        finally:
            ctx.close()

    return run_without_context(args, lambda _args, config: go(config))


def run_without_context(args: argparse.Namespace, handler: Callable[[argparse.Namespace, Any], Awaitable[int]]) -> int:
    """Run the handler on the config alone, turning every expected error into a sentence.
    Also for the few commands that must work before a context can open (a host whose key
    is not yet the store's)."""
    try:
        config = config_from_args(args)
        return asyncio.run(handler(args, config))
    except JumpdeckError as error:
        print_error(error)
        return exit_code_for(error)
    except KeyboardInterrupt:
        print("jumpdeck: interrupted.", file=sys.stderr)
        return 130


APP_NEEDS_TERMINAL = ("The app needs a terminal, and standard input or output is not one. From scripts and cron, "
                      "use a subcommand such as `jumpdeck check`, `jumpdeck servers ls` or `jumpdeck backup` "
                      "(`jumpdeck --help` lists them).")


def undecodable_argument(argv: list[str]) -> ValidationError | None:
    """The error for the first argument no store could take: argv bytes that were not
    UTF-8 arrive as lone surrogates, and every command would fail on them somewhere."""
    from jumpdeck.core.text_checks import storable_text

    for index, arg in enumerate(argv):
        if arg.startswith("--") and "=" in arg:
            label = f"value of {arg.split('=', 1)[0]}"
        elif index and argv[index - 1].startswith("-"):
            label = f"value of {argv[index - 1]}"
        else:
            label = f"argument in position {index + 1}"
        try:
            storable_text(arg, label=label)
        except ValidationError as error:
            return error
    return None


def dispatch(argv: list[str]) -> int:
    error = undecodable_argument(argv)
    if error is not None:
        print_error(error)
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from jumpdeck.tui.launch import launch_app

        try:
            config = config_from_args(args)
        except ConfigError as error:  # a bad value is one sentence and exit 2
            print_error(error)
            return EXIT_USAGE
        if not (sys.stdin.isatty() and sys.stdout.isatty()):  # cron, `jumpdeck < /dev/null`, a pipe
            print(f"jumpdeck: {APP_NEEDS_TERMINAL}", file=sys.stderr)
            return EXIT_USAGE
        return launch_app(config)
    return args.run(args)


def main(argv: list[str] | None = None) -> int:
    """Run one command. Whatever the input and wherever the output goes, this ends in an
    exit code and at most one sentence on stderr, never a traceback."""
    from jumpdeck.tui.cli.output import EXIT_CLOSED_PIPE, drop_stdout, is_output_error

    try:
        try:
            code = dispatch(sys.argv[1:] if argv is None else list(argv))
        except SystemExit:  # argparse: --help, --version, a usage error; its code stands
            sys.stdout.flush()
            raise
        sys.stdout.flush()  # a failed write surfaces here, not as "Exception ignored" at exit
        return code
    except BrokenPipeError:  # the reader closed the pipe (`| head -1`): stop quietly, as `ls` does
        drop_stdout()
        return EXIT_CLOSED_PIPE
    except OSError as error:
        if not is_output_error(error):
            return _unexpected(error)
        drop_stdout()
        _say(f"jumpdeck: cannot write the output: {error.strerror}. Send it to a file or device with room.")
        return EXIT_FAIL
    except Exception as error:  # noqa: BLE001 - the last line of defence for the promise above
        return _unexpected(error)


def _unexpected(error: BaseException) -> int:
    """A bug, not bad input: name the exception and where it was raised, never its text,
    which may hold values (a driver's message can quote what it was given)."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = f" at {frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}" if frame else ""
    _say(f"jumpdeck: unexpected {type(error).__name__}{where}. This is a bug in jumpdeck; "
         "please report it with the command that caused it.")
    return EXIT_FAIL


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr)
    except OSError:  # stderr is gone too: the exit code is all that is left
        pass


if __name__ == "__main__":
    sys.exit(main())
