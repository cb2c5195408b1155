"""Reusable widgets; each owns its DEFAULT_CSS."""
