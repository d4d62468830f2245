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


def affected(session: Session, stmt: Any) -> int:
    """Execute ``stmt`` and return the rows it inserted, updated or deleted. SQLAlchemy keeps
    an INSERT's rowcount only when asked to (psycopg reports -1 otherwise); RETURNING would
    ship every new id back to Python just to be counted."""
    result: Any = session.execute(stmt, execution_options={"preserve_rowcount": True})
    return max(int(result.rowcount or 0), 0)
