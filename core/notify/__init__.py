"""Notifications: telling the team when something breaks, through apprise.

Targets are apprise URLs kept encrypted in the settings row (they hold tokens); rules,
the quiet period, the repeat interval and maintenance windows sit beside them
(`config.py`). `Notifier.notify(Event(...))` decides whether an event is due
(`notifier.py`), sends it to every target in threads with a hard deadline (`send.py`)
and audits each delivery with the target's redacted form only (`targets.py`).
"""
