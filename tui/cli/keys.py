"""`jumpdeck rotate-key`: re-encrypt every stored secret under a new key (admin)."""

from __future__ import annotations

import argparse

from jumpdeck.tui.cli import run_with_context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotate-key", help="re-encrypt all stored passwords under a new key (admin)",
                       description="Writes a new key file and re-encrypts every stored password in one transaction.")
    p.set_defaults(run=lambda a: run_with_context(a, _rotate))


async def _rotate(args, ctx) -> int:
    from jumpdeck.core.keys import rotate_key

    result = await rotate_key(ctx, ctx.actor)
    print(f"Re-encrypted {result.tokens} secret(s); the new key is in {result.key_path}.")
    return 0
