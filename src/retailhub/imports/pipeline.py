"""From raw records to valid, keyed, hashed records, and to the report of the others.

Pure: no database. The same code serves REST payloads, files and ``validateOnly`` runs.

Duplicate keys in one payload are applied in order, so the last record with a key wins.
When a valid record repeats the key of an earlier one, the earlier one gets a warning
(rule ``duplicate``) naming the record that superseded it, and ``duplicates`` counts it.
Every record counts once in ``received = inserted + updated + unchanged + rejected``.
Within a batch, records are grouped so that no group holds one key twice: each group is
one set-based write.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from retailhub.imports import records as schemas
from retailhub.imports.entities import SPECS, EntitySpec
from retailhub.imports.issues import Issue, from_validation_error, render_value
from retailhub.imports.payload import chunk_records
from retailhub.imports.rules import RULES
from retailhub.imports.writers import Prepared, content_hash

_DUMP = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z


def _s(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def tokens(
    entity: str, key: tuple[Any, ...], record: dict[str, Any]
) -> tuple[tuple[Any, ...], ...]:
    """What identifies the stored rows a valid record writes. A customer is reached by its
    number and by its email, so both are tokens; a rating summary record writes one row
    per entry of ``ratingSummaries``."""
    if entity == "Customer":
        number, email = key
        found: list[tuple[Any, ...]] = []
        if number:
            found.append(("n", number))
        if email:
            found.append(("e", email))
        return tuple(found)
    if entity == "RatingSummary":
        return tuple(
            (*key, _s(s.get("providerRatingSummaryID")))
            for s in record.get("ratingSummaries") or ()
        )
    return (key,)


def _token_hash(token: tuple[Any, ...]) -> int:
    # Python's own 64-bit hash: seeded per process, which is fine, since an import's
    # SeenKeys lives and dies in one process (a resumed job rebuilds it).
    return hash(token)


class SeenKeys:
    """For each key token of an import: the index of the last record that carried it.

    Kept by 64-bit hash, in a dict up to 500,000 keys (about 45 MB), then in a temporary
    SQLite file, so memory stays bounded whatever the number of records. A hash collision
    (odds about 1 in 10^5 at ten million keys) can only add a spurious duplicate warning:
    duplicates are written in order all the same."""

    IN_MEMORY = 500_000

    def __init__(self, directory: str | None = None) -> None:
        self._memory: dict[int, int] = {}
        self._directory = directory
        self._db: sqlite3.Connection | None = None
        self._path: str | None = None

    def lookup(self, hashes: Iterable[int]) -> dict[int, int]:
        wanted = list(set(hashes))
        if self._db is None:
            return {h: self._memory[h] for h in wanted if h in self._memory}
        found: dict[int, int] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT h, i FROM seen WHERE h IN ({marks})", chunk))
        return found

    def update(self, last: dict[int, int]) -> None:
        if self._db is None:
            self._memory.update(last)
            if len(self._memory) <= self.IN_MEMORY:
                return
            self._spill()
            last, self._memory = self._memory, {}
        assert self._db is not None
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO seen (h, i) VALUES (?, ?)", last.items())
        self._db.execute("COMMIT")

    def _spill(self) -> None:
        if self._directory is not None:
            os.makedirs(self._directory, exist_ok=True)
        handle, self._path = tempfile.mkstemp(prefix="seen-", suffix=".db", dir=self._directory)
        os.close(handle)
        self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (h INTEGER PRIMARY KEY, i INTEGER NOT NULL)")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
            self._path = None


@dataclass
class Checked:
    """A batch after validation: the valid records, prepared, and the rejected ones.

    Valid records travel as plain tuples (the fields of ``Prepared``, in order): they cross
    a process boundary, and tuples of built-in values pickle several times faster."""

    valid: list[tuple[Any, ...]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rejected: int = 0
    unknown_fields: dict[str, int] = field(default_factory=dict)

    @property
    def received(self) -> int:
        """Records this batch accounts for: each valid or rejected once."""
        return len(self.valid) + self.rejected


def check_records(entity: str, batch: list[tuple[int, Any]]) -> Checked:
    """Validate, key and hash a batch of raw records. Pure and stateless, so it can run in
    another process: see ``Classifier`` for what depends on earlier batches."""
    spec = SPECS[entity]
    adapter = schemas.ADAPTERS[entity]
    known = schemas.KNOWN_FIELDS[entity]
    rules = RULES.get(entity)
    keep_record = entity in ("Customer", "RatingSummary")
    out = Checked()
    for index, raw in batch:
        try:
            clean = adapter.validate_python(raw)
        except ValidationError as exc:
            out.rejected += 1
            out.issues.extend(from_validation_error(exc, index=index))
            continue
        if rules is not None and (found := rules(clean)):
            for issue in found:
                issue.index = index
                if issue.field in raw:  # the value as given, not as parsed
                    issue.value = render_value(raw[issue.field])
            if any(issue.severity == "error" for issue in found):
                out.rejected += 1
                out.issues.extend(i for i in found if i.severity == "error")
                continue
            out.issues.extend(found)
        if len(raw) != len(clean):  # validation drops unknown fields, and only those
            for extra in raw.keys() - known:
                out.unknown_fields.setdefault(extra, index)
        key = spec.key(clean)
        if isinstance(key, Issue):
            key.index = index
            out.rejected += 1
            out.issues.append(key)
            continue
        full = orjson.dumps(clean, option=_DUMP)
        digest = content_hash(full)
        items = None
        if entity == "Order":
            items = clean.pop("items", None)
            if items is not None:
                full = orjson.dumps(clean, option=_DUMP)
        out.valid.append(
            (
                index,
                key,
                clean if keep_record else {},
                full.decode(),
                digest,
                spec.columns(clean),
                items,
            )
        )
    return out


def check_chunk(entity: str, first_index: int, data: bytes) -> Checked:
    """``check_records`` on a stored payload chunk (decompressed and parsed here, so that
    all of it happens in the checking process)."""
    return check_records(entity, list(enumerate(chunk_records(data), first_index)))


@dataclass
class Classified:
    groups: list[list[Prepared]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rejected: int = 0
    duplicates: int = 0
    received: int = 0

    @property
    def valid(self) -> list[Prepared]:
        return [item for group in self.groups for item in group]


class Classifier:
    """The part of classification that depends on earlier records of the same import."""

    def __init__(
        self, spec: EntitySpec, *, spill_dir: str | None = None, unit: str = "index"
    ) -> None:
        self.spec = spec
        self.unit = unit  # what a record's position is: an array index, or a file line
        self.known = schemas.KNOWN_FIELDS[spec.name]
        self.seen = SeenKeys(spill_dir)
        self.unknown_fields: dict[str, int] = {}

    def close(self) -> None:
        self.seen.close()

    def observe_written(self, batch: list[tuple[int, Any]]) -> None:
        """Re-observe records a previous run of this import already wrote (on resume): the
        valid ones are checked again and their keys noted, as the first run noted them, so
        duplicate and unknown-field warnings come out the same."""
        checked = check_records(self.spec.name, batch)
        for name, index in checked.unknown_fields.items():
            self.unknown_fields.setdefault(name, index)
        last: dict[int, int] = {}
        for index, key, record, *_rest in checked.valid:
            for token in tokens(self.spec.name, key, record):
                last[_token_hash(token)] = index
        self.seen.update(last)

    def classify(self, batch: list[tuple[int, Any]]) -> Classified:
        """Check a batch here, in this process, and sequence it."""
        return self.sequence(check_records(self.spec.name, batch))

    def sequence(self, checked: Checked) -> Classified:
        """Place a checked batch after the earlier ones: duplicate warnings, and groups in
        which no key repeats (each group is one set-based write)."""
        out = Classified(
            issues=checked.issues, rejected=checked.rejected, received=checked.received
        )
        for name, index in checked.unknown_fields.items():
            self.unknown_fields.setdefault(name, index)
        entity = self.spec.name
        items = [Prepared(*fields) for fields in checked.valid]
        hashes = [[_token_hash(t) for t in tokens(entity, item.key, item.record)] for item in items]
        last = self.seen.lookup(h for hs in hashes for h in hs)
        group: list[Prepared] = []
        in_group: set[int] = set()
        for item, hs in zip(items, hashes, strict=True):
            if len(set(hs)) < len(hs):
                out.issues.append(
                    Issue(
                        "warning",
                        "ratingSummaries",
                        "duplicate",
                        "The same providerRatingSummaryID appears twice in this record; the "
                        "last entry wins.",
                        index=item.index,
                    )
                )
            earlier = max([last.get(h, -1) for h in hs], default=-1)
            if earlier >= 0:
                out.duplicates += 1
                key = item.key
                out.issues.append(
                    Issue(
                        "warning",
                        self.spec.describe,
                        "duplicate",
                        f"Superseded by the record at {self.unit} {item.index}, which has the same "
                        f"{self.spec.describe} and was imported after it.",
                        value=render_value(key[-1] if key[-1] is not None else key[0]),
                        index=earlier,
                    )
                )
            clash = False
            for h in hs:
                last[h] = item.index
                clash = clash or h in in_group
            if clash:
                out.groups.append(group)
                group, in_group = [], set()
            group.append(item)
            in_group.update(hs)
        self.seen.update({h: last[h] for hs in hashes for h in hs})
        if group:
            out.groups.append(group)
        return out

    def unknown_field_issues(self) -> list[Issue]:
        return [
            Issue(
                "warning",
                name,
                "unknownField",
                f"Field '{name}' is not part of the {self.spec.name} schema and was ignored "
                "(reported once per import).",
                index=first,
            )
            for name, first in sorted(self.unknown_fields.items())
        ]
