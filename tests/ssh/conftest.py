"""SSH tests run against the real OpenSSH sshd from tests/fixtures/sshd.py."""

from __future__ import annotations

import pytest

from jumpdeck.core.ssh import HostKeyPolicy, SshAuth, SshTarget
from tests.fixtures.sshd import sshd, sshd_module, start_sshd, stop_sshd  # noqa: F401  (fixtures)


@pytest.fixture
def policy(tmp_path) -> HostKeyPolicy:
    """jumpdeck's known_hosts in a temp dir; the user's ~/.ssh/known_hosts is never read here."""
    return HostKeyPolicy(store=tmp_path / "known_hosts", user_files=(tmp_path / "user_known_hosts",))


@pytest.fixture
def trusted(policy, sshd_module) -> HostKeyPolicy:
    policy.store.write_text(sshd_module.known_hosts_line + "\n")
    return policy


def target_for(info, **changes) -> SshTarget:
    values = dict(host=info.host, port=info.port, user=info.user, auth=SshAuth.key(info.client_key))
    values.update(changes)
    return SshTarget(**values)


@pytest.fixture(scope="module")
def sshd_locale(tmp_path_factory):
    """An sshd that takes the client's locale, as Debian's and most distributions' sshd do."""
    info = start_sshd(tmp_path_factory.mktemp("sshd-locale"), extra_config="AcceptEnv LANG LC_*")
    yield info
    stop_sshd(info)


@pytest.fixture
def trusted_locale(policy, sshd_locale) -> HostKeyPolicy:
    policy.store.write_text(sshd_locale.known_hosts_line + "\n")
    return policy
