"""Where a run's playbooks put everything on a VM, and the Python they pin there, when
the settings (provision_root, provision_python) say nothing. A module of its own, with
no imports, so the settings' table can name them without loading the provisioning code
(and so it sits at the bottom of the layers, under settings and provision alike)."""

DEFAULT_ROOT_DIR = "/opt/jumpdeck"
DEFAULT_PYTHON = "/usr/bin/python3"
