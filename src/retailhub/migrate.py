"""Schema migrations (Alembic), run by ``retailhub db upgrade`` and at ``serve`` start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from retailhub.config import Settings, get_settings
from retailhub.db import get_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(settings: Settings | None = None, revision: str = "head") -> None:
    settings = settings or get_settings()
    engine = get_engine(settings)
    cfg = alembic_config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Two processes starting at once must not both migrate.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
