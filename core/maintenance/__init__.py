"""The production files' care (seed 003): backups, restore, the DB watcher, health,
integrity/checkpoint and the year-end archive rollover."""
