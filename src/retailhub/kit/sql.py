"""Portable SQL helpers for the two backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert(session: Session, table: Table | Any) -> Any:
    """The dialect's ``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update``."""
    module: Any = postgresql if is_pg(session) else sqlite
    return module.insert(table)
