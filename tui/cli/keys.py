"""`jumpdeck rotate-key` (re-encrypt every stored secret under a new key, admin) and
`jumpdeck key show|export|import` (bring the store's key to another host)."""

from __future__ import annotations

import argparse

from jumpdeck.tui.cli import run_with_context, run_without_context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotate-key", help="re-encrypt all stored passwords under a new key (admin)",
                       description="Writes a new key file and re-encrypts every stored password in one transaction.")
    p.set_defaults(run=lambda a: run_with_context(a, _rotate))
    register_key(sub)


async def _rotate(args, ctx) -> int:
    from jumpdeck.core.keys import rotate_key

    result = await rotate_key(ctx, ctx.actor)
    print(f"Re-encrypted {result.tokens} secret(s); the new key is in {result.key_path}.")
    return 0


def register_key(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("key", help="this store's encryption key: show, export to, import on another host",
                       description="Every host on one store must hold the store's key. `show` compares this host's "
                                   "key with the store's; `export` writes it to a new 0600 file (admin); `import` makes "
                                   "a key this host's key file, once it opens the store.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    show = verbs.add_parser("show", help="the store's key id and this host's, and whether they match (exit 1 if not)")
    show.add_argument("--fingerprint", action="store_true", help="print only this host's key id")
    show.add_argument("--json", action="store_true", help="JSON output for scripts")
    show.set_defaults(run=lambda a: run_without_context(a, _show))
    export = verbs.add_parser("export", help="write this host's key to a new file, mode 0600 (admin)")
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="a file that does not exist yet")
    export.set_defaults(run=lambda a: run_with_context(a, _export))
    imp = verbs.add_parser("import", help="make a key this host's key file (mode 0600), if it opens the store")
    imp.add_argument("key_file", metavar="FILE", help="the exported key, or - to read it from standard input")
    imp.set_defaults(run=lambda a: run_without_context(a, _import))


async def _show(args, config) -> int:
    import json

    from jumpdeck.core.store_key import key_status

    status = await key_status(config)
    if args.fingerprint:
        print(status.host_key_id or "-")
        return 0 if status.host_key_id else 1
    if args.json:
        print(json.dumps({"store": status.store_shown, "store_key_id": status.store_key_id,
                          "host_key_id": status.host_key_id, "host_key_source": status.host_source,
                          "matches": status.matches}))
    else:
        print(f"store {status.store_shown}: {status.store_key_id or 'no key adopted yet (the first host to open it gives it)'}")
        print(f"this host: {status.host_key_id or 'no key yet'}" + (f" (from {status.host_source})" if status.host_source else ""))
        if status.store_key_id is None and status.host_key_id is None:
            print("Nothing to match yet: the first jumpdeck command here makes a key, and the store adopts it.")
            return 0
        print("They match." if status.matches else "They do not match: `jumpdeck key import FILE` with the store's key.")
    return 0 if status.matches else 1


async def _export(args, ctx) -> int:
    from pathlib import Path

    from jumpdeck.core.identity import Operation, require
    from jumpdeck.core.store_key import export_key

    require(ctx.actor, Operation.ROTATE_KEY)
    export_key(ctx.secrets, Path(args.output))
    await ctx.activity.record(ctx.actor, "KEY_EXPORT", "STORE", ctx.store.url_display, ctx.secrets.key_id)
    print(f"Wrote the key {ctx.secrets.key_id} to {args.output} (mode 0600). It opens every stored password: "
          "copy it over SSH, import it, then delete it.")
    return 0


async def _import(args, config) -> int:
    import sys

    from jumpdeck.core.errors import ConfigError
    from jumpdeck.core.store_key import import_key

    if args.key_file == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(args.key_file, encoding="ascii", errors="replace") as f:
                text = f.read(4096)
        except OSError as exc:
            raise ConfigError(f"Cannot read {args.key_file}: {exc.strerror}.", remedy="Name the exported key file.") from None
    key_id = await import_key(config, text)
    print(f"This host now uses the key {key_id}; it matches the store.")
    return 0
