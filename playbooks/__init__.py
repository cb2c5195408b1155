"""The provisioning playbooks, shipped as package data `jumpdeck.playbooks` (this file only
makes the folder a package that `importlib.resources` can find)."""
