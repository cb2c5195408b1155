"""The DB fleet: registry, checks, dashboard data (seed 000)."""
