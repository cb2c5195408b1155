"""Real node_exporter + Prometheus on loopback ports, for the monitor tests and bench.

Debian's packages install systemd units; these are ignored: the stack runs its own
processes with a temporary config and data dir, scraping every second, and stops them.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROMETHEUS = "prometheus"
NODE_EXPORTER = "prometheus-node-exporter"
# Only the collectors the monitor reads: a scrape stays cheap even with 1,000 targets.
EXPORTER_FLAGS = [
    "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo", "--collector.filesystem",
    # Keep an overlay root (containers): the default exclusion would hide "/".
    "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|"
    "fusectl|hugetlbfs|mqueue|nsfs|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binaries_missing() -> str | None:
    missing = [b for b in (PROMETHEUS, NODE_EXPORTER) if shutil.which(b) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install prometheus prometheus-node-exporter)"
    return None


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@dataclass
class PromStack:
    workdir: Path
    exporter_port: int = field(default_factory=free_port)
    prometheus_port: int = field(default_factory=free_port)
    scrape_interval: str = "1s"
    # Extra instance labels that all point at the one exporter (the bench's fleet).
    extra_instances: list[str] = field(default_factory=list)
    exporter: subprocess.Popen | None = None
    prometheus: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def exporter_instance(self) -> str:
        return f"127.0.0.1:{self.exporter_port}"

    def _config(self) -> str:
        lines = [
            "global:",
            f"  scrape_interval: {self.scrape_interval}",
            f"  evaluation_interval: {self.scrape_interval}",
            "scrape_configs:",
            "  - job_name: node",
            "    static_configs:",
            f"      - targets: ['{self.exporter_instance}']",
        ]
        for instance in self.extra_instances:
            # Same address, another instance label: Prometheus keeps them as separate targets.
            lines += [f"      - targets: ['{self.exporter_instance}']", f"        labels: {{instance: '{instance}'}}"]
        return "\n".join(lines) + "\n"

    def start_exporter(self) -> None:
        log = open(self.workdir / "node_exporter.log", "ab")
        self.exporter = subprocess.Popen(
            [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{self.exporter_port}", *EXPORTER_FLAGS],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self._wait_port(self.exporter_port, "node_exporter", self.exporter)

    def start_prometheus(self) -> None:
        (self.workdir / "prometheus.yml").write_text(self._config())
        (self.workdir / "data").mkdir(exist_ok=True)
        log = open(self.workdir / "prometheus.log", "ab")
        self.prometheus = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.workdir / 'data'}", f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
             "--storage.tsdb.retention.time=2h", "--log.level=warn"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=self.workdir)
        self._wait_port(self.prometheus_port, "Prometheus", self.prometheus)

    def stop_prometheus(self) -> None:
        _stop(self.prometheus)
        self.prometheus = None

    def stop(self) -> None:
        self.stop_prometheus()
        _stop(self.exporter)
        self.exporter = None

    def _wait_port(self, port: int, name: str, process: subprocess.Popen, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.workdir}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within {timeout:g} s")

    def wait_for_samples(self, instances: int = 1, timeout: float = 60) -> None:
        """Until the CPU rate (two scrapes) exists for `instances` instance labels."""
        query = ('count(count by (instance) (rate(node_cpu_seconds_total{mode="idle"}[2m]))'
                 ' and on(instance) max by (instance) (node_filesystem_size_bytes{mountpoint="/"})'
                 ' and on(instance) max by (instance) (node_memory_MemTotal_bytes))')
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            try:
                r = httpx.post(f"{self.url}/api/v1/query", data={"query": query}, timeout=5, trust_env=False)
                result = r.json()["data"]["result"]
                seen = int(float(result[0]["value"][1])) if result else 0
                if seen >= instances:
                    return
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"Prometheus had samples for {seen} of {instances} instances after {timeout:g} s")
