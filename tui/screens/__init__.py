"""One screen per file; each subclasses tui.screens.base.JumpdeckScreen."""
