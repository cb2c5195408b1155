"""The Ansible runner gives ansible-playbook its environment (PATH with jumpdeck's own
bin first, the private Ansible folders) through the child's environment only: the
process it runs in (the worker, or a jumpdeck tearing a run down) keeps its own PATH."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from jumpdeck.core.provision.events import RunSpec
from jumpdeck.core.provision.runner import AnsibleRunner
from jumpdeck.core.provision.templates import get_template


class _FinishedRunner:
    status = "successful"
    rc = 0


async def test_a_run_leaves_the_process_path_alone(tmp_path, monkeypatch) -> None:
    import ansible_runner

    given: dict = {}

    def run_async(**kwargs):  # noqa: ANN003, ANN202
        given.update(kwargs)
        thread = threading.Thread(target=lambda: None)
        thread.start()
        thread.join()
        return thread, _FinishedRunner()

    monkeypatch.setattr(ansible_runner, "run_async", run_async)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    spec = RunSpec(run_id=1, service_name="env-check", template=get_template("single"), hosts=(),
                   data_dir=tmp_path / "run", connection="local")
    runner = AnsibleRunner()
    events = [e async for e in runner.start(spec)]
    assert runner.outcome.status == "successful", events
    assert os.environ["PATH"] == "/usr/bin:/bin"
    # The child still finds ansible-playbook next to jumpdeck's Python first.
    bin_dir = str(Path(sys.executable).parent)
    assert given["envvars"]["PATH"] == bin_dir + os.pathsep + "/usr/bin:/bin"
    assert given["envvars"] == runner.child_environment(spec)
