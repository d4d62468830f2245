"""Store search from memory: the catalog's names and descriptions held by each API process.

Search is a substring match, ranked (the name equal to the term, then starting with it,
then containing it, then the description only; ties by the lower-cased name, then id). A
database answers it with trigram indexes in milliseconds, which under fifty concurrent
clients is the whole budget of the request. The texts of even a large catalog are a few
megabytes, so each process keeps them in rank-tie order, with each store's answer row:

- the names sorted, so equal and prefix matches are one binary search and a short walk;
- for terms of three characters or more, SQLite FTS5 trigram indexes of the names and the
  descriptions (in memory, keyed by rank-tie position), read in position order: each
  candidate is checked against the text, and the walk stops at ``offset + size`` matches,
  so a rare term costs a few index pages and a frequent one the first rows;
- for shorter terms, each text as one string, searched with ``str.find``.

SQLite answers without holding Python's interpreter lock. A search the trigram indexes answer
for a first page (``quick``) runs on the event loop, as a cache hit does; the others (short
terms, wildcards, deep pages) run in a worker thread.

A background thread builds the snapshot, which reading and indexing 50,000 stores keeps busy
for about a second and a half; until it is there, searches go to the database
(``repository.search_stores``, which gives the same results), so no request waits for it. It
is as fresh as the catalog cache (``cashback_cache_seconds``): a catalog write made through
this process sends searches back to the database until a new snapshot holds it; otherwise,
once that many seconds have passed, a background thread compares the catalog's version (the
count and latest change of its stores and of their logos) and reads the stores again if it
moved, while searches go on with the snapshot they have. With the cache off
(``cashback_cache_seconds=0``) every search goes to the database.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from retailhub.cashback.catalog import repository
from retailhub.cashback.catalog.regions import GLOBAL
from retailhub.config import get_settings
from retailhub.db import session_scope

log = logging.getLogger(__name__)

# Between two entries of a text; no entry holds it and a term holding it matches nothing.
SEP = "\x00"


# Terms this long or longer, and free of LIKE's wildcards (which FTS5 reads its own way),
# are looked up in the trigram indexes.
TRIGRAM = 3
_WILDCARDS = frozenset("%_")


class _Trigrams:
    """Trigram indexes of the names and the descriptions, in an in-memory SQLite database
    (one connection, used by one thread at a time)."""

    def __init__(self, names: list[str], texts: list[str]) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        for table, values in (("names", names), ("texts", texts)):
            # detail=none: only which rows hold a trigram, the least to build and keep; a
            # LIKE on the table reads the index.
            self._db.execute(
                f"CREATE VIRTUAL TABLE {table} USING fts5(x, tokenize='trigram', detail='none')"
            )
            self._db.executemany(f"INSERT INTO {table}(rowid, x) VALUES (?, ?)", enumerate(values))
        self._db.commit()

    def candidates(self, table: str, term: str) -> Iterator[int]:
        """Positions whose text may hold ``term`` (no wildcard in it), in order: LIKE's case
        folding only widens the set, and callers check each one."""
        with self._lock:
            cursor = self._db.execute(
                f"SELECT rowid FROM {table} WHERE x LIKE ? ORDER BY rowid", (f"%{term}%",)
            )
            while rows := cursor.fetchmany(64):
                for (position,) in rows:
                    yield position


@dataclass(frozen=True)
class Snapshot:
    """The active stores in rank-tie order (lower-cased name, then id)."""

    version: tuple[Any, ...]
    ids: list[int]
    keys: list[str]
    texts: list[str]
    countries: list[frozenset[str]]
    names_joined: str
    name_starts: list[int]
    texts_joined: str
    text_starts: list[int]
    trigrams: _Trigrams
    # The search's answer rows by store id (``repository.store_summaries``).
    summaries: dict[int, dict[str, Any]]

    @classmethod
    def build(
        cls,
        version: tuple[Any, ...],
        rows: list[tuple[int, str, str, Any]],
        summaries: dict[int, dict[str, Any]],
    ) -> Snapshot:
        rows.sort(key=lambda row: (row[1], row[0]))
        keys = [row[1] for row in rows]
        texts = [row[2] or "" for row in rows]
        return cls(
            version=version,
            ids=[row[0] for row in rows],
            keys=keys,
            texts=texts,
            countries=[frozenset(row[3] or ()) for row in rows],
            names_joined=_joined(keys),
            name_starts=_starts(keys),
            texts_joined=_joined(texts),
            text_starts=_starts(texts),
            trigrams=_Trigrams(keys, texts),
            summaries=summaries,
        )

    def search(self, term: str, countries: tuple[str, ...], wanted: int) -> list[int]:
        """The ids of the first ``wanted`` matches of ``term`` (lower-cased), best first."""
        served = _served(countries)
        found: list[int] = []

        def take(i: int) -> bool:
            if served is None or served(self.countries[i]):
                found.append(self.ids[i])
            return len(found) >= wanted

        keys, texts = self.keys, self.texts
        # Equal, then starting with the term: one run of the sorted names.
        i = bisect_left(keys, term)
        while i < len(keys) and keys[i].startswith(term):
            if take(i):
                return found
            i += 1
        # Containing it elsewhere than at the start.
        for i in self._holding("names", term):
            if term in keys[i] and not keys[i].startswith(term) and take(i):
                return found
        # In the description only.
        for i in self._holding("texts", term):
            if term in texts[i] and term not in keys[i] and take(i):
                return found
        return found

    def _holding(self, table: str, term: str) -> Iterator[int]:
        if SEP in term:
            return iter(())
        if _trigram_term(term):
            return self.trigrams.candidates(table, term)
        if table == "names":
            return _entries(self.names_joined, self.name_starts, term)
        return _entries(self.texts_joined, self.text_starts, term)


def _trigram_term(term: str) -> bool:
    return len(term) >= TRIGRAM and not _WILDCARDS & set(term) and SEP not in term


# The most matches a quick search may need.
QUICK_WANTED = 200


def quick(term: str, wanted: int) -> bool:
    """Whether a snapshot finds the first ``wanted`` matches of ``term`` (lower-cased) from
    its indexes alone, with no long scan of the texts: a fraction of a millisecond, short
    enough to run on the event loop."""
    return wanted <= QUICK_WANTED and _trigram_term(term)


def _joined(parts: list[str]) -> str:
    return SEP.join(part.replace(SEP, " ") for part in parts) + SEP


def _starts(parts: list[str]) -> list[int]:
    starts, at = [], 0
    for part in parts:
        starts.append(at)
        at += len(part) + 1
    return starts


def _entries(text: str, starts: list[int], term: str) -> Iterator[int]:
    """The entries of ``text`` holding ``term``, in order, each once."""
    at = text.find(term)
    while at >= 0:
        i = bisect_right(starts, at) - 1
        yield i
        following = starts[i + 1] if i + 1 < len(starts) else len(text)
        at = text.find(term, following)


def _served(countries: tuple[str, ...]) -> Any:
    """The country filter of ``repository.countries_condition``, on a store's set."""
    named = frozenset(c for c in countries if c != GLOBAL)
    if GLOBAL in countries:
        return lambda served: GLOBAL in served or bool(named and named <= served)
    if named:
        return lambda served: named <= served
    return None


def _load(session: Session) -> Snapshot:
    version = repository.catalog_version(session)
    rows = repository.searchable_stores(session)
    texts = [
        (row["id"], row.pop("name_key"), row.pop("search_text"), row["countries"]) for row in rows
    ]
    return Snapshot.build(version, texts, {row["id"]: row for row in rows})


class Index:
    """This process's snapshot, refreshed as the module describes."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._generation = 0
        self._built_generation = -1
        self._refreshing = threading.Lock()

    def invalidate(self) -> None:
        """The catalog changed through this process: the snapshot no longer holds it."""
        self._generation += 1

    def snapshot(self) -> Snapshot | None:
        """The snapshot to search, or None while none holds this process's own writes (the
        caller searches the database meanwhile). Past its time it is still answered while
        a background thread checks the catalog's version."""
        current = self._snapshot
        if current is None or self._built_generation != self._generation:
            self._refresh_in_background()
            return None
        if time.monotonic() >= self._checked + get_settings().cashback_cache_seconds:
            self._refresh_in_background()
        return current

    def build(self) -> Snapshot:
        """Bring the snapshot up to date now (startup warm-up, tests)."""
        with self._refreshing:
            return self._refresh()

    def _refresh_in_background(self) -> None:
        if not self._refreshing.acquire(blocking=False):
            return  # another thread is at it
        threading.Thread(target=self._refresh_then_release, daemon=True).start()

    def _refresh_then_release(self) -> None:
        try:
            self._refresh()
        except Exception:
            log.exception("the store search index could not be refreshed")
        finally:
            self._refreshing.release()

    def _refresh(self) -> Snapshot:
        generation, current = self._generation, self._snapshot
        with session_scope() as session:
            unchanged = (
                current is not None
                and self._built_generation == generation
                and repository.catalog_version(session) == current.version
            )
            if unchanged:
                assert current is not None
                self._checked = time.monotonic()
                return current
            snapshot = _load(session)
        self._snapshot, self._built_generation = snapshot, generation
        self._checked = time.monotonic()
        return snapshot


index = Index()
