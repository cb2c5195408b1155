"""Provisioning: the VM pool, templates, runners (Ansible and mock) and durable runs."""
