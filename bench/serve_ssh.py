"""serve-ssh: first frame over the real OpenSSH client vs `jumpdeck --demo` started
directly, both in tmux, in the same run; then RSS per session, the idle CPU of 20
sessions together and the bytes an idle session is sent.

    .venv/bin/python bench/serve_ssh.py [--runs 7] [--sessions 20] [--window 30]

"First frame" is the time from starting the tmux pane until capture-pane shows the
footer's "Palette" (the app has drawn its first full screen); tmux is polled every
10 ms. Both sides use the same demo data dir. The idle figures are measured over
--window seconds (default 30) and scaled to a minute; the script says so.
Everything runs on loopback; needs tmux and ssh.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MARKER = "Palette"
TMUX = ["tmux", "-L", f"jdbench-{os.getpid()}"]


def tmux(*args: str, check: bool = True) -> str:
    return subprocess.run([*TMUX, *args], check=check, capture_output=True, text=True).stdout


def time_to_marker(name: str, command: str, timeout: float = 30.0) -> float:
    t0 = time.perf_counter()
    tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", command)
    while time.perf_counter() - t0 < timeout:
        if MARKER in tmux("capture-pane", "-p", "-t", name, check=False):
            return time.perf_counter() - t0
        time.sleep(0.01)
    raise SystemExit(f"{name}: no first frame within {timeout:.0f} s:\n" + tmux("capture-pane", "-p", "-t", name, check=False))


def quit_pane(name: str) -> None:
    tmux("send-keys", "-t", name, "q", check=False)
    for _ in range(300):
        if name not in tmux("list-sessions", "-F", "#S", check=False).split():
            return
        time.sleep(0.01)
    tmux("kill-session", "-t", name, check=False)


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def memory_kb(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, USS) in kB. RSS counts pages shared with the session starter in full;
    PSS splits them fairly; USS (private pages) is what one more session costs."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:", "Private_Clean:", "Private_Dirty:"):
                values[parts[0]] = int(parts[1])
    return values["Rss:"], values["Pss:"], values["Private_Clean:"] + values["Private_Dirty:"]


def python_under(pid: int) -> int:
    """The jumpdeck process in a pane: the pane's shell may have exec'd it or forked it."""
    for _ in range(5):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"jumpdeck.tui.cli" in f.read():
                return pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            break
        pid = int(children[0])
    raise SystemExit("could not find the direct jumpdeck process")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--window", type=float, default=30.0, help="idle measurement window in seconds")
    args = parser.parse_args()
    for tool in ("tmux", "ssh", "ssh-keygen"):
        if not shutil.which(tool):
            raise SystemExit(f"bench/serve_ssh.py needs {tool}")

    base = Path(tempfile.mkdtemp(prefix="jdb", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_") and k not in ("TMUX", "TMUX_PANE")}
    env.update({"JUMPDECK_HOME": str(base / "h"), "JUMPDECK_CONFIG": os.devnull})
    me = pwd.getpwuid(os.getuid()).pw_name  # jumpdeck's actor is the OS account
    jd = [sys.executable, "-m", "jumpdeck.tui.cli"]
    key = base / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", str(key)], check=True)
    # The first --demo command seeds the demo store; this account is its first user, hence admin.
    subprocess.run([*jd, "--demo", "users", "add-key", me, str(key) + ".pub"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    port = free_port()
    server = subprocess.Popen([*jd, "--demo", "serve-ssh", "--listen", f"127.0.0.1:{port}", "--max-sessions", "100",
                               "--max-per-user", "100", "--max-unauthenticated", "100", "--idle-timeout", "0"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        # Wait for the warm session starter, so the figures are the steady state.
        seen = []
        while not any("session starter ready" in x for x in seen):
            ready, _, _ = select.select([server.stdout], [], [], 60)
            line = server.stdout.readline() if ready else ""
            if not line:
                raise SystemExit("serve-ssh did not get ready: " + "".join(seen))
            seen.append(line)
        env_prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith("JUMPDECK_"))
        direct_cmd = f"cd {shlex.quote(str(ROOT))} && env {env_prefix} {shlex.join(jd)} --demo"
        ssh_cmd = shlex.join(["ssh", "-tt", "-p", str(port), "-i", str(key), "-o", f"UserKnownHostsFile={base / 'kh'}",
                              "-o", "StrictHostKeyChecking=no", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                              "-o", "LogLevel=ERROR", f"{me}@127.0.0.1"])
        # A session that outlives the others: a tmux server whose last session ends exits,
        # and a new-session racing that exit fails.
        tmux("new-session", "-d", "-s", "keep", "-x", "20", "-y", "5", "sleep 3600")
        # Warm both paths once (page cache, host key in known_hosts).
        for name, cmd in (("warm-d", direct_cmd), ("warm-s", ssh_cmd)):
            time_to_marker(name, cmd)
            quit_pane(name)

        direct, over_ssh, direct_mem = [], [], []
        for i in range(args.runs):
            direct.append(time_to_marker(f"d{i}", direct_cmd))
            pane_pid = int(tmux("display-message", "-p", "-t", f"d{i}", "#{pane_pid}").strip())
            direct_mem.append(memory_kb(python_under(pane_pid)))
            quit_pane(f"d{i}")
            over_ssh.append(time_to_marker(f"s{i}", ssh_cmd))
            quit_pane(f"s{i}")
        d, s = statistics.median(direct), statistics.median(over_ssh)
        print(f"first frame, jumpdeck --demo direct in tmux   median {d * 1000:7.0f} ms  (runs {args.runs})")
        print(f"first frame, over ssh via serve-ssh           median {s * 1000:7.0f} ms  ratio {s / d:.2f}  "
              f"(goal <= 1.30 and <= 800 ms)")

        # ---- N sessions at once: memory, idle CPU, idle bytes
        from jumpdeck.core.config import load_config
        from jumpdeck.core.identity import Actor, Role
        from jumpdeck.core.serve.control import list_sessions

        config = load_config(cli={"home": str(base / "h")}, env={"JUMPDECK_CONFIG": os.devnull}, demo=True)
        admin = Actor(me, Role.ADMIN)
        server_rss_before = memory_kb(server.pid)[0]
        for i in range(args.sessions):
            time_to_marker(f"n{i}", ssh_cmd, timeout=90)
        # Let every app finish its start-up work: the first round of checks, and the one
        # full collector pass each app runs at its first look at the clock (tui/collector.py,
        # CHECK_EVERY after start: 25-35 ms, once) over what its start-up left behind.
        from jumpdeck.tui.collector import CHECK_EVERY

        time.sleep(CHECK_EVERY + 5)
        live = asyncio.run(list_sessions(config, admin))
        pids = [x.pid for x in live]
        mem = [memory_kb(p) for p in pids]
        server_rss_after = memory_kb(server.pid)[0]
        rss = statistics.median(m[0] for m in mem) / 1024
        pss = statistics.median(m[1] for m in mem) / 1024
        uss = statistics.median(m[2] for m in mem) / 1024
        print(f"memory per session ({len(pids)} sessions)       median RSS {rss:5.1f} MB, PSS {pss:5.1f} MB, "
              f"USS (private) {uss:5.1f} MB; "
              f"server grew {(server_rss_after - server_rss_before) / 1024 / len(pids):4.2f} MB per session "
              f"(goal RSS <= 60 MB)")
        print(f"memory of jumpdeck --demo started directly  median RSS "
              f"{statistics.median(m[0] for m in direct_mem) / 1024:5.1f} MB (the baseline, same run)")

        watched = [server.pid, *pids]
        before = {p: cpu_ticks(p) for p in watched}
        ticks0 = sum(before.values())
        bytes0 = {x.id: x.bytes_out for x in live}
        t0 = time.monotonic()
        time.sleep(args.window)
        elapsed = time.monotonic() - t0
        after = {p: cpu_ticks(p) for p in watched}
        ticks1 = sum(after.values())
        live1 = asyncio.run(list_sessions(config, admin))
        hz = os.sysconf("SC_CLK_TCK")
        cpu = (ticks1 - ticks0) / hz / elapsed * 100
        per_min = [(x.bytes_out - bytes0.get(x.id, 0)) * 60 / elapsed for x in live1]
        print(f"idle CPU of {len(pids)} sessions + server together  {cpu:5.2f} % of one core over {elapsed:.0f} s "
              f"(goal <= 1 %); the server {(after[server.pid] - before[server.pid]) / hz / elapsed * 100:4.2f} %, "
              f"the busiest session {max(after[p] - before[p] for p in pids) / hz / elapsed * 100:4.2f} %")
        print(f"bytes sent to an idle session                median {statistics.median(per_min):6.0f} B/min, "
              f"max {max(per_min):6.0f} B/min (measured over {elapsed:.0f} s, scaled to a minute; goal <= 2048)")
        # A session on its first screen reads nothing from the store (the server sends the
        # fleet); one that goes further opens it. The cost of having been everywhere:
        for key, title in (("2", "Provision"), ("3", "Monitor"), ("4", "SSH"), ("5", "Charts"),
                           ("6", "Maintenance"), ("7", "Activity"), ("8", "Users"), ("1", "Servers")):
            tmux("send-keys", "-t", "n0", key)
            deadline = time.monotonic() + 30
            while f"jumpdeck  {title}" not in tmux("capture-pane", "-p", "-t", "n0") and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(3)
        everywhere = next(x.pid for x in live if x.id == min(y.id for y in live))
        print(f"memory of a session after opening every screen  RSS {memory_kb(everywhere)[0] / 1024:5.1f} MB "
              f"(the store, SQLAlchemy and each screen's libraries load on first use)")
        for i in range(args.sessions):
            quit_pane(f"n{i}")
    finally:
        tmux("kill-server", check=False)
        Path(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", TMUX[2]).unlink(missing_ok=True)
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
