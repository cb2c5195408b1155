"""Process-tree helpers for durable runs (Linux /proc; no psutil needed).

ansible 2.19 workers call setsid(), so killing the runner's process group leaves them
running (one hung forever in a pause task). The worker makes itself a child subreaper,
so orphaned descendants are re-parented to it and a walk of /proc finds them all.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

WORKER_MODULE = "jumpdeck.core.provision.worker"
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: descendants that re-parent to init escape the tree walk


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid ..." — comm may hold spaces and parentheses.
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def descendants(pid: int) -> list[int]:
    parents = _parents()
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(pid: int, *, include_root: bool, sig: int = signal.SIGKILL) -> int:
    """Signal every descendant of `pid` (and `pid` itself if asked), repeatedly, until
    none is left. Returns how many processes were signalled."""
    count = 0
    for _ in range(20):
        targets = descendants(pid)
        if not targets:
            break
        for target in targets:
            try:
                os.kill(target, sig)
                count += 1
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    if include_root:
        try:
            os.kill(pid, sig)
            count += 1
        except ProcessLookupError:
            pass
    return count


def worker_alive(pid: int | None, run_id: int) -> bool:
    """Is `pid` still the worker of `run_id`? Checks the command line, so a recycled
    pid is not mistaken for a live run."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":
        return False
    args = [a.decode(errors="replace") for a in cmdline]
    return WORKER_MODULE in args and str(run_id) in args
