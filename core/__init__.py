"""jumpdeck's shared async core.

Everything an operator can do exists here first, as an async API with tests; the TUI
(`tui/`) and the command line are two faces over it. This package never imports
Textual or Rich: `tests/core/test_core_is_ui_free.py` proves it.
"""
