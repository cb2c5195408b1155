"""The metadata store. Import `core.store.engine` / `core.store.models` where first used:
SQLAlchemy's ORM costs start-up time the first frame should not pay."""
