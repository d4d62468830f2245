"""Engine and sessions. SQLite (WAL) by default, PostgreSQL via psycopg 3.

Services flush; the boundary (request, job, CLI command) owns the transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from retailhub.config import Settings, get_settings

_engines: dict[str, Engine] = {}


class FairLock:
    """A first-come, first-served lock. SQLite's own lock is not fair: a waiting writer
    polls with growing sleeps, and an import committing chunk after chunk can starve it
    for seconds. Write transactions of this process queue here instead, in order."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._abandoned: set[int] = set()

    def acquire(self, timeout: float = 60) -> None:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            if not self._cond.wait_for(lambda: ticket == self._serving, timeout):
                # Give the turn up in order, so the queue behind us keeps moving.
                self._abandoned.add(ticket)
                raise TimeoutError("database is busy: no write turn within 60 s")

    def release(self) -> None:
        with self._cond:
            self._serving += 1
            while self._serving in self._abandoned:
                self._abandoned.discard(self._serving)
                self._serving += 1
            self._cond.notify_all()


def _sqlite_setup(engine: Engine) -> None:
    writers = FairLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN is emitted when SQLAlchemy
        # begins, not lazily before the first write (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk when it returns; an acknowledged import survives power loss.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A transaction that reads before it writes must hold the write lock from the start,
        # or WAL mode fails its first write if another writer committed in between.
        if not conn.get_execution_options().get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN")
            return
        writers.acquire()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.release()
            raise
        conn.info["retailhub_writer"] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Any) -> None:
        if conn.info.pop("retailhub_writer", False):
            writers.release()


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = settings.sqlalchemy_url
    engine = _engines.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
            _sqlite_setup(engine)
        else:
            engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factories.clear()


_factories: dict[int, sessionmaker[Session]] = {}


def session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    engine = get_engine(settings)
    factory = _factories.get(id(engine))
    if factory is None:
        factory = _factories[id(engine)] = sessionmaker(engine, expire_on_commit=False)
    return factory


@contextmanager
def session_scope(settings: Settings | None = None, *, write: bool = False) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on error.

    ``write=True`` takes SQLite's write lock when the transaction begins (``BEGIN
    IMMEDIATE``), for units that read and then write; PostgreSQL ignores it.
    """
    session = session_factory(settings)()
    if write:
        session.connection(execution_options={"sqlite_immediate": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
