"""Queue wiring: an in-process poller on SQLite, Procrastinate workers on PostgreSQL."""
