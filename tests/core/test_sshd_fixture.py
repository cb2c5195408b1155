"""The sshd fixture itself: the real OpenSSH client logs in with the throw-away key."""

import subprocess

from tests.fixtures.sshd import sshd  # noqa: F401  (fixture)


def test_openssh_client_runs_a_command(sshd, tmp_path) -> None:  # noqa: F811
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line + "\n")
    out = subprocess.run(
        ["ssh", "-i", str(sshd.client_key), "-p", str(sshd.port), "-o", f"UserKnownHostsFile={known}",
         "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", f"{sshd.user}@{sshd.host}", "echo jumpdeck-$((6*7))"],
        capture_output=True, text=True, timeout=20,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "jumpdeck-42"
