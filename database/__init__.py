"""The metadata store's Alembic migrations, shipped as package data `jumpdeck.database`."""
