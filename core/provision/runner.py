"""Runners: execute a run and yield `RunEvent`s. Selected by config (`runner`).

`AnsibleRunner` runs the template's playbook through ansible-runner; `MockRunner` is
seed 001's mock (deterministic steps, fake resources) for demos without machines. Both
yield the same events, so the service, the CLI and the log view do not care which ran.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import AsyncIterator

from jumpdeck.core.child_env import child_environment
from jumpdeck.core.provision.events import (
    STEP_MARKER,
    RunEvent,
    RunOutcome,
    RunSpec,
    strip_ansi,
)

# ansible-runner event name -> the result a line or task end carries.
_RESULT_OF = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
    "runner_item_on_ok": "ok",
    "runner_item_on_failed": "failed",
    "runner_item_on_skipped": "skipped",
    "runner_on_start": "started",
    "playbook_on_task_start": "started",
}


class MockRunner:
    """Seed 001's mock: one log line per step after a fixed delay, no machines touched."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self.outcome = RunOutcome("failed", "the run did not finish")

    def cancel(self) -> None:
        self._cancel.set()

    async def start(self, spec: RunSpec) -> AsyncIterator[RunEvent]:
        delay = float(spec.options.get("step_delay", 0.4))
        fail_step = int(spec.options.get("fail_step", 0))
        hosts = [h.name for h in spec.hosts] or [f"{t.group}-{n}" for t in spec.template.tiers for n in range(1, t.count + 1)]
        yield RunEvent("line", f"PLAY [{spec.service_name} · {spec.template.title} · mock runner]", "started")
        for number, title in enumerate(spec.template.steps[1:], start=2):
            yield RunEvent("task", f"TASK [Step {number}: {title}]", "started", task=title, step=number)
            for _ in range(int(delay * 20) or 1):  # sleep in slices so cancel is prompt
                if self._cancel.is_set():
                    self.outcome = RunOutcome("canceled")
                    yield RunEvent("line", "Canceled.", "failed")
                    return
                await asyncio.sleep(delay / (int(delay * 20) or 1))
            for host in hosts:
                if number == fail_step:
                    error = f"Task 'Step {number}: {title}' failed on {host}: injected failure"
                    yield RunEvent("line", f"fatal: [{host}]: FAILED! => injected failure", "failed", host=host, task=title)
                    self.outcome = RunOutcome("failed", error)
                    return
                yield RunEvent("line", f"changed: [{host}]", "changed", host=host, task=title)
            yield RunEvent("line", f"ok: [{hosts[0]}] => ::STEP_{number}_OK::", "ok", host=hosts[0], task=title)
            yield RunEvent("step", title, "ok", step=number)
        for host in hosts:
            yield RunEvent("recap", f"{host:<26}: ok={len(spec.template.steps)}  changed={len(spec.template.steps) - 1}  "
                           "unreachable=0  failed=0", "ok", host=host)
        self.outcome = RunOutcome("successful")


def _created(event: dict):  # noqa: ANN202
    """When ansible-playbook wrote the event (UTC, naive like the store's times)."""
    from datetime import datetime, timezone

    try:
        created = datetime.fromisoformat(str(event.get("created")))
    except ValueError:
        return None
    if created.tzinfo is not None:
        created = created.astimezone(timezone.utc).replace(tzinfo=None)
    return created


def build_inventory(spec: RunSpec) -> dict:
    groups: dict[str, dict] = {}
    for host in spec.hosts:
        hostvars: dict = {"jd_http_port": host.http_port, "jd_vm_name": host.vm_name}
        if spec.connection == "local":
            hostvars["ansible_connection"] = "local"
        else:
            hostvars.update(ansible_host=host.ip, ansible_port=host.ssh_port, ansible_user=host.ssh_user)
            if spec.ssh_key:
                hostvars["ansible_ssh_private_key_file"] = spec.ssh_key
        groups.setdefault(host.group, {"hosts": {}})["hosts"][host.name] = hostvars
    # Interpreter discovery once picked a broken pyenv shim on a target: pin it.
    # Module temp files go under the run's root too, never the user's ~/.ansible.
    return {"all": {"children": groups, "vars": {"ansible_python_interpreter": spec.python,
                                                 "ansible_remote_tmp": f"{spec.root_dir}/.ansible/tmp"}}}


def build_extravars(spec: RunSpec) -> dict:
    return {
        "jd_root": spec.root_dir,
        "jd_service": spec.service_name,
        "jd_run_id": spec.run_id,
        "jd_template": spec.template.name,
        "jd_packages": list(spec.packages),
        "jd_install_packages": spec.install_packages,
        "jd_fail_step": int(spec.options.get("fail_step", 0)),
        "jd_hold_seconds": int(spec.options.get("hold_seconds", 0)),
    }


def host_fingerprint(host: str, port: int) -> str:
    """The SHA256 fingerprint the host offers now (for the 'unknown key' sentence)."""
    try:
        scan = subprocess.run(["ssh-keyscan", "-T", "3", "-p", str(port), "-t", "ed25519,ecdsa,rsa", host],
                              capture_output=True, text=True, env=child_environment(), timeout=6)
        out = subprocess.run(["ssh-keygen", "-lf", "-"], input=scan.stdout, capture_output=True, text=True, env=child_environment(), timeout=6)
        first = out.stdout.strip().splitlines()[0].split()
        return f"{first[1]} ({first[-1].strip('()')})"
    except Exception:
        return "unknown (the host did not answer a key scan)"


class AnsibleRunner:
    """Runs a template's playbook with ansible-runner in a fresh private data dir."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self.outcome = RunOutcome("failed", "the run did not finish")
        self._first_error = ""

    def cancel(self) -> None:
        self._cancel.set()

    def child_environment(self, spec: RunSpec) -> dict[str, str]:
        """The environment of the ansible-playbook child, built here and nowhere else:
        ansible-runner lays these over a copy of this process's environment and gives
        the result to the child only (this process's own environment is never changed).
        It also makes the run's private Ansible folders under the data dir."""
        data = spec.data_dir
        for sub in ("ansible", "tmp", "cp"):
            (data / sub).mkdir(parents=True, exist_ok=True)
        bin_dir = str(Path(sys.executable).parent)
        ssh_args = ["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
        if spec.known_hosts:
            ssh_args += ["-o", f"UserKnownHostsFile={spec.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null"]
        # Unix sockets are limited to ~108 bytes; a deep data dir gets no multiplexing.
        if len(str(data / "cp")) < 60:
            ssh_args += ["-o", "ControlMaster=auto", "-o", "ControlPersist=30s"]
        else:
            ssh_args += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        return {
            # ansible-runner finds ansible-playbook on the child's PATH only (pexpect
            # looks it up there): our venv's first.
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "ANSIBLE_HOME": str(data / "ansible"),
            "ANSIBLE_LOCAL_TEMP": str(data / "tmp"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(data / "cp"),
            "ANSIBLE_SSH_ARGS": " ".join(ssh_args),
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            # One SSH connection per task instead of four (mkdir, put, exec, rm): the module
            # goes over the exec channel's stdin. We never use become with requiretty.
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_ROLES_PATH": str(spec.template.playbook.parent / "roles"),
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "no_proxy": "*",
        }

    def _translate(self, spec: RunSpec, event: dict) -> list[RunEvent]:
        name = event.get("event", "")
        data = event.get("event_data") or {}
        host = str(data.get("host") or data.get("remote_addr") or "")
        task = str(data.get("task") or data.get("play") or "")
        result = _RESULT_OF.get(name, "")
        if name == "runner_on_ok" and (data.get("res") or {}).get("changed"):
            result = "changed"
        if name == "playbook_on_stats":
            result = "recap"
        out: list[RunEvent] = []
        if name in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
            res = data.get("res") or {}
            msg = str(res.get("msg") or res.get("stderr") or res.get("reason") or "no message").strip().splitlines()[0]
            if "Host key verification failed" in str(res) or "REMOTE HOST IDENTIFICATION HAS CHANGED" in str(res):
                target = next((h for h in spec.hosts if h.name == host), None)
                where = f"{target.ip}:{target.ssh_port}" if target else host
                fp = host_fingerprint(target.ip, target.ssh_port) if target else "unknown"
                msg = (f"the host key of {host} ({where}) is not in jumpdeck's known_hosts or has changed; "
                       f"it offers {fp}. Trust it only after checking that fingerprint.")
                out.append(RunEvent("line", f"Host key refused: {msg}", "unreachable", host=host, task=task))
            if not self._first_error:
                verb = "could not reach" if result == "unreachable" else "failed on"
                self._first_error = f"Task '{task}' {verb} {host}: {msg}"
        stdout = strip_ansi(event.get("stdout") or "")
        at = _created(event)
        if name == "playbook_on_task_start":
            out.append(RunEvent("task", stdout.strip() or f"TASK [{task}]", "started", task=task, at=at))
            return out
        for line in stdout.splitlines():
            if not line.strip():
                continue
            kind = "recap" if result == "recap" and ":" in line and "PLAY RECAP" not in line else "line"
            line_result = result
            if result == "recap":
                line_result = "failed" if ("failed=0" not in line or "unreachable=0" not in line) and "ok=" in line else "ok"
            out.append(RunEvent(kind, line, line_result, host=host if kind == "line" else line.split(":")[0].strip(), task=task, at=at))
            marker = STEP_MARKER.search(line)
            if marker:
                number = int(marker.group(1))
                title = spec.template.steps[number - 1] if 0 < number <= len(spec.template.steps) else f"step {number}"
                out.append(RunEvent("step", title, "ok", step=number))
        return out

    async def start(self, spec: RunSpec) -> AsyncIterator[RunEvent]:
        import ansible_runner

        if shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) is None:
            self.outcome = RunOutcome("failed", "ansible-playbook is not installed next to jumpdeck's Python.")
            yield RunEvent("line", self.outcome.error, "failed")
            return
        # A fresh private data dir per run: ansible-runner reuses what it finds there.
        private = spec.data_dir / "private"
        if private.exists():
            shutil.rmtree(private)
        private.mkdir(parents=True)
        envvars = self.child_environment(spec)
        events: queue.SimpleQueue = queue.SimpleQueue()

        def on_event(event: dict) -> bool:
            for ev in self._translate(spec, event):
                events.put(ev)
            return True  # also keep ansible-runner's own artifact files

        thread, runner = ansible_runner.run_async(
            private_data_dir=str(private),
            project_dir=str(spec.template.playbook.parent),
            playbook=str(spec.playbook or spec.template.playbook),
            inventory=build_inventory(spec),
            extravars=build_extravars(spec),
            envvars=envvars,
            event_handler=on_event,
            # Polled every pexpect_timeout: keep it short so cancel is prompt.
            cancel_callback=self._cancel.is_set,
            settings={"pexpect_timeout": 0.2, "suppress_ansible_output": True},
            quiet=True,
            ident="run",
        )
        while True:
            drained = False
            try:
                while True:
                    yield events.get_nowait()
                    drained = True
            except queue.Empty:
                pass
            if not thread.is_alive() and events.empty():
                break
            if not drained:
                await asyncio.sleep(0.05)
        status = runner.status
        if self._cancel.is_set() or status == "canceled":
            self.outcome = RunOutcome("canceled")
        elif status == "successful" and runner.rc == 0:
            self.outcome = RunOutcome("successful")
        else:
            self.outcome = RunOutcome("failed", self._first_error or f"ansible-playbook ended with status {status} (rc={runner.rc}).")


def make_runner(kind: str):
    return AnsibleRunner() if kind == "ansible" else MockRunner()
