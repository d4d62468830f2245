"""Portable SQL helpers for the two backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
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


def raw_connection(session: Session) -> Any:
    """The DB-API connection under the session (psycopg's, for COPY and executemany)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    return raw


def sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy would bind it on SQLite (for statements sent to the driver)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, Decimal):
        return float(value)
    return value


def insert_rows(
    session: Session, table: str, cols: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Plain inserts of many rows, the cheapest way each backend has: ``COPY`` on
    PostgreSQL, one ``executemany`` on SQLite."""
    rows = list(rows)
    if not rows:
        return
    if is_pg(session):
        statement = f"COPY {table} ({', '.join(cols)}) FROM STDIN"
        with raw_connection(session).cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in cols)
        session.connection().exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",
            [tuple(sqlite_value(v) for v in row) for row in rows],
        )
