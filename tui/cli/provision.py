"""`jumpdeck provision ...` and `jumpdeck pool ...`: provisioning runs and the VM pool."""

from __future__ import annotations

import argparse
import sys

from jumpdeck.core.provision.events import LIVE_STATUSES, TERMINAL_STATUSES
from jumpdeck.tui.cli import run_with_context
from jumpdeck.tui.cli.inputs import seconds, whole_number
from jumpdeck.tui.cli.output import dumps, print_table

_COLORS = {"failed": "31", "unreachable": "31", "changed": "33", "ok": "32", "skipped": "36"}


def register(sub: argparse._SubParsersAction) -> None:
    prov = sub.add_parser("provision", help="start, follow, cancel and remove provisioning runs",
                          description="Provisioning runs from templates (single, standard, enterprise). A run goes on "
                          "when this command exits; follow it again with `provision logs ID --follow`.")
    prov.set_defaults(run=lambda a: (prov.print_help(), 2)[1])
    verbs = prov.add_subparsers(dest="verb", metavar="VERB")

    start = verbs.add_parser("start", help="start a run and print its id")
    start.add_argument("template", help="single, standard or enterprise")
    start.add_argument("--name", required=True, help="service name (DNS-safe, unique among live runs)")
    start.add_argument("--package", action="append", default=[], metavar="P", help="a package to configure (repeatable)")
    start.add_argument("--runner", choices=("mock", "ansible"), help="default: the configured runner")
    start.add_argument("--target", choices=("pool", "local", "none"),
                       help="pool: the pool's VMs over SSH (ansible default); local: this machine; none: no VMs (mock default)")
    start.add_argument("--follow", action="store_true", help="stream the log; exit 0 on COMPLETED, 1 otherwise")
    start.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="run options: timeout (s), step_delay (mock, s), fail_step, hold_seconds (test hooks)")
    start.set_defaults(run=lambda a: run_with_context(a, _start))

    ls = verbs.add_parser("ls", help="list runs, newest first")
    ls.add_argument("--status", type=str.upper, choices=(*LIVE_STATUSES, *TERMINAL_STATUSES),
                    help="only runs with this status")
    ls.add_argument("--json", action="store_true", help="one JSON array for scripts")
    ls.set_defaults(run=lambda a: run_with_context(a, _ls))

    logs = verbs.add_parser("logs", help="print a run's log (replayed from the start)")
    logs.add_argument("id", type=whole_number(1, 2**63 - 1, "a run id"))
    logs.add_argument("--follow", "-f", action="store_true", help="keep following until the run ends; exit 0 on COMPLETED")
    logs.set_defaults(run=lambda a: run_with_context(a, _logs))

    cancel = verbs.add_parser("cancel", help="cancel a running run (graceful, then forceful); its VMs are released")
    cancel.add_argument("id", type=whole_number(1, 2**63 - 1, "a run id"))
    cancel.add_argument("--wait", type=seconds(0, 3600), default=15.0, help="seconds to wait for CANCELED (default 15)")
    cancel.set_defaults(run=lambda a: run_with_context(a, _cancel))

    teardown = verbs.add_parser("teardown", help="stop a finished run's services, remove what it deployed, release its VMs")
    teardown.add_argument("id", type=whole_number(1, 2**63 - 1, "a run id"))
    teardown.set_defaults(run=lambda a: run_with_context(a, _teardown))

    rm = verbs.add_parser("rm", help="delete an ended run and its log (its VMs go back to the pool)")
    rm.add_argument("id", type=whole_number(1, 2**63 - 1, "a run id"))
    rm.set_defaults(run=lambda a: run_with_context(a, _rm))

    pool = sub.add_parser("pool", help="list and change the workload VM pool",
                          description="The VMs provisioning runs take. Adding and removing is for admins.")
    pool.set_defaults(run=lambda a: (pool.print_help(), 2)[1])
    pverbs = pool.add_subparsers(dest="verb", metavar="VERB")
    pls = pverbs.add_parser("ls", help="list the pool's VMs")
    pls.add_argument("--json", action="store_true")
    pls.set_defaults(run=lambda a: run_with_context(a, _pool_ls))
    padd = pverbs.add_parser("add", help="add a VM")
    padd.add_argument("--name", required=True)
    padd.add_argument("--ip", required=True)
    padd.add_argument("--ssh-user", default="root")
    padd.add_argument("--ssh-port", type=whole_number(1, 65535, "a port number"), default=22)
    padd.add_argument("--ssh-password-stdin", action="store_true",
                      help="read the VM's SSH password from standard input (one line); it is stored encrypted")
    padd.set_defaults(run=lambda a: run_with_context(a, _pool_add))
    ppw = pverbs.add_parser("passwd", help="store or clear a VM's SSH password (encrypted)",
                            description="The password is read from standard input (--password-stdin, one line) "
                            "or asked for at a terminal; never from the command line, where history would keep it.")
    ppw.add_argument("name")
    ppw.add_argument("--password-stdin", action="store_true", help="read the password from standard input (one line)")
    ppw.add_argument("--clear", action="store_true", help="forget the stored password")
    ppw.set_defaults(run=lambda a: run_with_context(a, _pool_passwd))
    prm = pverbs.add_parser("rm", help="remove an available VM")
    prm.add_argument("name")
    prm.set_defaults(run=lambda a: run_with_context(a, _pool_rm))


def _service(ctx):  # noqa: ANN001, ANN202
    from jumpdeck.core.provision.service import ProvisionService

    return ProvisionService(ctx.store, ctx.config, ctx.settings, ctx.secrets)


def format_event(event, *, color: bool) -> str | None:  # noqa: ANN001
    """One printable line for an event, or None for events that are progress only."""
    if event.kind == "step":
        text = f"::: step {event.step} done: {event.text}"
    elif event.kind == "status":
        text = f"::: run is {event.result}" + (f": {event.text}" if event.text and event.text != event.result else "")
    else:
        text = event.text
    code = _COLORS.get(event.result) if event.kind != "status" else ("32" if event.result == "COMPLETED" else "31" if event.result in ("FAILED", "CANCELED") else None)
    if color and code:
        return f"\x1b[{code}m{text}\x1b[0m"
    return text


async def _print_follow(svc, ctx, run_id: int, follow: bool) -> int:  # noqa: ANN001
    color = sys.stdout.isatty()
    if follow:
        async for batch in svc.follow(ctx.actor, run_id):
            for event in batch:
                line = format_event(event, color=color)
                if line is not None:
                    print(line)
            sys.stdout.flush()  # once a batch: a fast run is not written line by line
    else:
        last = 0
        while True:
            batch = await svc.events(ctx.actor, run_id, after_id=last)
            if not batch:
                break
            for event in batch:
                last = event.id
                print(format_event(event, color=color))
    info = await svc.get(ctx.actor, run_id)
    if info.status == "COMPLETED" and info.resources:
        print(f"resources: {dumps(info.resources)}")
    if info.error:
        print(f"error: {info.error}", file=sys.stderr)
    return 0 if info.status == "COMPLETED" else 1


_OPTIONS = {"timeout": float, "step_delay": float, "fail_step": int, "hold_seconds": int}


def parse_options(items: list[str]) -> dict:
    from jumpdeck.core.errors import ValidationError
    from jumpdeck.core.text_checks import finite_number

    options = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in _OPTIONS:
            raise ValidationError(f"'{key}' is not a run option.", field="option", remedy=f"Known options: {', '.join(_OPTIONS)}.")
        try:
            options[key] = _OPTIONS[key](value)
        except ValueError:
            raise ValidationError(f"The option {key} needs a number, not '{value[:40]}'.", field="option") from None
        if _OPTIONS[key] is float:  # nan would pass as a timeout that never ends a run
            finite_number(options[key], label=f"option {key}", field="option")
    return options


async def _start(args, ctx) -> int:
    svc = _service(ctx)
    info = await svc.start(ctx.actor, args.template, args.name, packages=args.package, runner=args.runner, target=args.target,
                           options=parse_options(args.option))
    print(info.id, flush=True)
    if not args.follow:
        return 0
    return await _print_follow(svc, ctx, info.id, True)


async def _ls(args, ctx) -> int:
    svc = _service(ctx)
    await svc.recover_interrupted(ctx.actor)
    runs = await svc.list(ctx.actor, status=args.status)
    if args.json:
        print(dumps([{"id": r.id, "service_name": r.service_name, "template": r.template, "status": r.status,
                      "runner": r.runner, "created_by": r.created_by, "created_at": r.created_at,
                      "started_at": r.started_at, "finished_at": r.finished_at, "duration": r.duration,
                      "assigned_ip": r.assigned_ip, "details": r.details} for r in runs]))
        return 0
    print_table(["id", "name", "template", "status", "step", "created", "duration", "ips", "user"],
                [[r.id, r.service_name, r.template, r.status,
                  f"{r.progress.get('step', 0)}/{r.progress.get('total', '?')}",
                  r.created_at.strftime("%Y-%m-%d %H:%M"), f"{r.duration:.0f}s" if r.duration is not None else "-",
                  r.assigned_ip or "-", r.created_by] for r in runs])
    return 0


async def _logs(args, ctx) -> int:
    svc = _service(ctx)
    return await _print_follow(svc, ctx, args.id, args.follow)


async def _cancel(args, ctx) -> int:
    info = await _service(ctx).cancel(ctx.actor, args.id, wait=args.wait)
    print(f"Run {info.id} ({info.service_name}) is {info.status}.")
    return 0 if info.status == "CANCELED" else 1


async def _teardown(args, ctx) -> int:
    info = await _service(ctx).teardown(ctx.actor, args.id)
    print(f"Run {info.id} ({info.service_name}) torn down: {info.details['teardown']['released']} VM(s) back in the pool.")
    return 0


async def _rm(args, ctx) -> int:
    svc = _service(ctx)
    info = await svc.get(ctx.actor, args.id)
    await svc.remove(ctx.actor, args.id)
    print(f"Removed run {info.id} ({info.service_name}).")
    return 0


async def _pool_ls(args, ctx) -> int:
    from jumpdeck.core.provision.pool import Pool

    vms = await Pool(ctx.store).list(ctx.actor)
    if args.json:
        print(dumps([{"name": v.name, "ip": v.ip, "ssh_user": v.ssh_user, "ssh_port": v.ssh_port, "status": v.status,
                      "run_id": v.run_id, "occupy_user": v.occupy_user} for v in vms]))
        return 0
    print_table(["name", "ip", "ssh", "status", "run", "user"],
                [[v.name, v.ip, f"{v.ssh_user}:{v.ssh_port}", v.status, v.run_id or "-", v.occupy_user or "-"] for v in vms])
    return 0


def _read_ssh_password(from_stdin: bool):  # noqa: ANN202
    import sys

    from jumpdeck.core.errors import ValidationError
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.text_checks import storable_text
    from jumpdeck.tui.cli.inputs import read_stdin_line

    if from_stdin:
        value = read_stdin_line("password")
    elif sys.stdin.isatty():
        import getpass

        value = getpass.getpass("SSH password: ")
    else:
        raise ValidationError("No password was given.", field="password", remedy="Pipe it in with --password-stdin.")
    if not value:
        raise ValidationError("The password is empty.", field="password", remedy="Use --clear to forget a stored one.")
    storable_text(value, label="password", field="password")  # a typed one too: ssh refuses NUL
    return Secret(value)


async def _pool_add(args, ctx) -> int:
    from jumpdeck.core.provision.pool import Pool

    password = _read_ssh_password(True) if args.ssh_password_stdin else None
    vm = await Pool(ctx.store, ctx.secrets).add(ctx.actor, args.name, args.ip, ssh_user=args.ssh_user,
                                                ssh_port=args.ssh_port, ssh_password=password)
    print(f"Added {vm.name} ({vm.ssh_user}@{vm.ip}:{vm.ssh_port}) to the pool"
          + (", with its SSH password stored encrypted." if password else "."))
    return 0


async def _pool_passwd(args, ctx) -> int:
    from jumpdeck.core.provision.pool import Pool

    password = None if args.clear else _read_ssh_password(args.password_stdin)
    await Pool(ctx.store, ctx.secrets).set_password(ctx.actor, args.name, password)
    print(f"{'Cleared' if args.clear else 'Stored (encrypted)'} the SSH password of {args.name}.")
    return 0


async def _pool_rm(args, ctx) -> int:
    from jumpdeck.core.provision.pool import Pool

    await Pool(ctx.store).remove(ctx.actor, args.name)
    print(f"Removed {args.name} from the pool.")
    return 0
