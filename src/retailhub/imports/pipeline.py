"""From raw records to valid, keyed, hashed records, and to the report of the others.

Pure: no database. The same code serves REST payloads, files and ``validateOnly`` runs.

Duplicate keys: the last record carrying a key wins. A first pass over the payload finds
the last index of every key, so the earlier records are reported as superseded (warning,
counted in ``duplicates``) and never written; every record is then counted exactly once:
``received = inserted + updated + unchanged + rejected + duplicates``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from retailhub.imports import records as schemas
from retailhub.imports.entities import EntitySpec, normalize_email
from retailhub.imports.issues import Issue, from_validation_error, render_value
from retailhub.imports.writers import Prepared, content_hash

_DUMP = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z


def _s(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def raw_identity(entity: str, raw: Any) -> tuple[Any, ...] | None:
    """The key a raw record will have once valid, computed without validating it."""
    if not isinstance(raw, dict):
        return None
    if entity == "Product":
        key: tuple[Any, ...] = (_s(raw.get("sku")),)
    elif entity == "Order":
        key = (_s(raw.get("orderNumber")),)
    elif entity == "Review":
        key = (_s(raw.get("provider")), _s(raw.get("providerReviewID")))
    elif entity == "RatingSummary":
        key = (_s(raw.get("provider")), _s(raw.get("providerProductID")))
    elif entity == "Customer":
        number = (_s(raw.get("customerNumber")) or "").strip()
        if number:
            return ("n", number)
        email = normalize_email(_s(raw.get("email")))
        return ("e", email) if email else None
    else:
        return None
    return None if None in key else key


def last_occurrences(entity: str, raws: Iterable[Any]) -> tuple[int, dict[tuple[Any, ...], int]]:
    """First pass: the number of records, and for keys that repeat, the index that wins."""
    last: dict[tuple[Any, ...], int] = {}
    repeated: set[tuple[Any, ...]] = set()
    count = 0
    for index, raw in enumerate(raws):
        count += 1
        key = raw_identity(entity, raw)
        if key is None:
            continue
        if key in last:
            repeated.add(key)
        last[key] = index
    return count, {key: last[key] for key in repeated}


@dataclass
class Classified:
    valid: list[Prepared] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rejected: int = 0
    duplicates: int = 0


class Classifier:
    def __init__(self, spec: EntitySpec, winners: dict[tuple[Any, ...], int]) -> None:
        self.spec = spec
        self.adapter = schemas.ADAPTERS[spec.name]
        self.known = schemas.KNOWN_FIELDS[spec.name]
        self.winners = winners
        self.unknown_fields: dict[str, int] = {}

    def classify(self, batch: list[tuple[int, Any]]) -> Classified:
        out = Classified()
        name = self.spec.name
        for index, raw in batch:
            if self.winners:
                key = raw_identity(name, raw)
                winner = self.winners.get(key) if key is not None else None
                if winner is not None and winner != index:
                    out.duplicates += 1
                    out.issues.append(
                        Issue(
                            "warning",
                            self.spec.describe,
                            "duplicate",
                            f"Superseded by the record at index {winner} with the same "
                            f"{self.spec.describe}; this record was not imported.",
                            value=render_value(key[-1]),
                            index=index,
                        )  # fmt: skip
                    )
                    continue
            try:
                clean = self.adapter.validate_python(raw)
            except ValidationError as exc:
                out.rejected += 1
                out.issues.extend(from_validation_error(exc, index=index))
                continue
            for extra in raw.keys() - self.known:
                self.unknown_fields.setdefault(extra, index)
            key_or_issue = self.spec.key(clean)
            if isinstance(key_or_issue, Issue):
                key_or_issue.index = index
                out.rejected += 1
                out.issues.append(key_or_issue)
                continue
            out.valid.append(self._prepare(index, key_or_issue, clean))
        return out

    def _prepare(self, index: int, key: tuple[Any, ...], clean: dict[str, Any]) -> Prepared:
        full = orjson.dumps(clean, option=_DUMP)
        if self.spec.name == "Order":
            items = clean.pop("items", None)
            data = orjson.dumps(clean, option=_DUMP) if items is not None else full
            return Prepared(index, key, clean, data, content_hash(full), extra={"items": items})
        return Prepared(index, key, clean, full, content_hash(full))

    def unknown_field_issues(self) -> list[Issue]:
        return [
            Issue(
                "warning",
                name,
                "unknownField",
                f"Field '{name}' is not part of the {self.spec.name} schema and was ignored "
                "(reported once per import).",
                index=first,
            )  # fmt: skip
            for name, first in sorted(self.unknown_fields.items())
        ]
