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

from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from retailhub.imports import records as schemas
from retailhub.imports.entities import SPECS, EntitySpec, normalize_email
from retailhub.imports.issues import Issue, from_validation_error, render_value
from retailhub.imports.payload import chunk_records
from retailhub.imports.writers import Prepared, content_hash

_DUMP = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z


def _s(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def raw_tokens(entity: str, raw: Any) -> tuple[tuple[Any, ...], ...]:
    """The tokens a raw record will have once valid, computed without validating it."""
    if not isinstance(raw, dict):
        return ()
    if entity == "Customer":
        number = (_s(raw.get("customerNumber")) or "").strip() or None
        return tokens(entity, (number, normalize_email(_s(raw.get("email")))))
    fields = {
        "Product": ("sku",),
        "Order": ("orderNumber",),
        "Review": ("provider", "providerReviewID"),
        "RatingSummary": ("provider", "providerProductID"),
    }[entity]
    key = tuple(_s(raw.get(f)) for f in fields)
    return () if None in key else (key,)


def tokens(entity: str, key: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
    """What identifies the stored row a valid record writes. A customer is reached by its
    number and by its email, so both are tokens."""
    if entity == "Customer":
        number, email = key
        found: list[tuple[Any, ...]] = []
        if number:
            found.append(("n", number))
        if email:
            found.append(("e", email))
        return tuple(found)
    return (key,)


@dataclass
class Checked:
    """A batch after validation: the valid records, prepared, and the rejected ones.

    Valid records travel as plain tuples (the fields of ``Prepared``, in order): they cross
    a process boundary, and tuples of built-in values pickle several times faster."""

    valid: list[tuple[Any, ...]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rejected: int = 0
    unknown_fields: dict[str, int] = field(default_factory=dict)


def check_records(entity: str, batch: list[tuple[int, Any]]) -> Checked:
    """Validate, key and hash a batch of raw records. Pure and stateless, so it can run in
    another process: see ``Classifier`` for what depends on earlier batches."""
    spec = SPECS[entity]
    adapter = schemas.ADAPTERS[entity]
    known = schemas.KNOWN_FIELDS[entity]
    keep_record = entity in ("Customer", "RatingSummary")
    out = Checked()
    for index, raw in batch:
        try:
            clean = adapter.validate_python(raw)
        except ValidationError as exc:
            out.rejected += 1
            out.issues.extend(from_validation_error(exc, index=index))
            continue
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

    @property
    def valid(self) -> list[Prepared]:
        return [item for group in self.groups for item in group]


class Classifier:
    """The part of classification that depends on earlier records of the same import."""

    def __init__(self, spec: EntitySpec) -> None:
        self.spec = spec
        self.known = schemas.KNOWN_FIELDS[spec.name]
        # token -> index of the last valid record that carried it
        self.seen: dict[tuple[Any, ...], int] = {}
        self.unknown_fields: dict[str, int] = {}

    def observe_written(self, index: int, raw: Any) -> None:
        """Re-observe a record a previous run of this import already wrote (on resume)."""
        if not isinstance(raw, dict):
            return
        for extra in raw.keys() - self.known:
            self.unknown_fields.setdefault(extra, index)
        for token in raw_tokens(self.spec.name, raw):
            self.seen[token] = index

    def classify(self, batch: list[tuple[int, Any]]) -> Classified:
        """Check a batch here, in this process, and sequence it."""
        return self.sequence(check_records(self.spec.name, batch))

    def sequence(self, checked: Checked) -> Classified:
        """Place a checked batch after the earlier ones: duplicate warnings, and groups in
        which no key repeats (each group is one set-based write)."""
        out = Classified(issues=checked.issues, rejected=checked.rejected)
        for name, index in checked.unknown_fields.items():
            self.unknown_fields.setdefault(name, index)
        group: list[Prepared] = []
        in_group: set[tuple[Any, ...]] = set()
        entity = self.spec.name
        seen = self.seen
        for fields in checked.valid:
            item = Prepared(*fields)
            idents = tokens(entity, item.key)
            earlier = max([seen.get(t, -1) for t in idents], default=-1)
            if earlier >= 0:
                out.duplicates += 1
                key = item.key
                out.issues.append(
                    Issue(
                        "warning",
                        self.spec.describe,
                        "duplicate",
                        f"Superseded by the record at index {item.index}, which has the same "
                        f"{self.spec.describe} and was imported after it.",
                        value=render_value(key[-1] if key[-1] is not None else key[0]),
                        index=earlier,
                    )
                )
            clash = False
            for t in idents:
                seen[t] = item.index
                clash = clash or t in in_group
            if clash:
                out.groups.append(group)
                group, in_group = [], set()
            group.append(item)
            in_group.update(idents)
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
