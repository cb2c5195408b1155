"""The metadata store. Import `jumpdeck.core.store.engine` / `jumpdeck.core.store.models` where first used:
SQLAlchemy's ORM costs start-up time the first frame should not pay."""
