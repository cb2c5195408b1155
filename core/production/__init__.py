"""Production data (seed 003): the live DB and the yearly archive DBs."""
