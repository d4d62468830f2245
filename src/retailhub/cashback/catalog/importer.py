"""``retailhub stores import FILE``: upsert catalog stores by id from a JSON array (streamed)
or a CSV file, a batch per transaction, through the same service as the operator API.

CSV columns carry the JSON field names. Nested values: ``commission`` as ``1.80%`` or
``2.50 USD`` (or ``commission.value`` and ``commission.format`` columns); ``countries``,
``categories`` and ``tags`` as comma lists or JSON arrays; ``address`` as JSON or
``address.line1`` … ``address.country`` columns; ``commissionDetails`` and
``alternativeContent`` as JSON. An empty cell is an absent field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson
from pydantic import ValidationError

from retailhub.cashback.catalog import service
from retailhub.cashback.catalog.schemas import StoreIn
from retailhub.db import session_scope

BATCH = 2000
MAX_ERRORS = 1000
_LISTS = ("countries", "categories", "tags")
_JSON = ("commissionDetails", "alternativeContent", "address")


class BadRecord(Exception):
    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.problem = {"field": field, "rule": rule, "message": message}


def _json_records(path: Path) -> Iterator[tuple[dict[str, Any], Any]]:
    with path.open("rb") as handle:
        for index, item in enumerate(ijson.items(handle, "item")):
            yield {"index": index}, item


def _list_cell(value: str) -> list[Any]:
    if value.startswith("["):
        return list(json.loads(value))
    return [part.strip() for part in value.split(",") if part.strip()]


def _commission_cell(value: str) -> dict[str, str]:
    """``1.80%`` → {1.80, %}; ``2.50 USD`` → {2.50, USD}."""
    if value.endswith("%"):
        return {"value": value[:-1].strip(), "format": "%"}
    amount, _, currency = value.rpartition(" ")
    if not amount:
        raise BadRecord("commission", "format", "commission is like 1.80% or 2.50 USD")
    return {"value": amount.strip(), "format": currency.strip()}


def _csv_record(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column, raw in row.items():
        value = (raw or "").strip()
        if not column or not value:
            continue
        head, _, sub = column.partition(".")
        try:
            if sub:
                record.setdefault(head, {})[sub] = value
            elif column == "commission":
                record[column] = _commission_cell(value)
            elif column in _LISTS:
                record[column] = _list_cell(value)
            elif column in _JSON:
                record[column] = json.loads(value)
            elif column == "active":
                record[column] = value.lower() in ("true", "1", "yes")
            else:
                record[column] = value
        except json.JSONDecodeError as exc:
            raise BadRecord(column, "json_invalid", f"{column} is not valid JSON: {exc}") from None
    return record


def _csv_records(path: Path) -> Iterator[tuple[dict[str, Any], Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            where = {"line": reader.line_num}
            try:
                yield where, _csv_record(row)
            except BadRecord as exc:
                yield where, exc


def _check(item: Any) -> StoreIn:
    if isinstance(item, BadRecord):
        raise item
    if not isinstance(item, dict):
        raise BadRecord("record", "type", "a store is a JSON object")
    if item.get("id") in (None, ""):
        raise BadRecord("id", "missing", "an imported store has an id (stores are upserted by id)")
    return StoreIn.model_validate(item)


def import_stores(path: Path) -> dict[str, Any]:
    """Import ``path``; bad records are reported (where, field, rule) and the rest kept."""
    csv_file = path.suffix.lower() == ".csv"
    records = _csv_records(path) if csv_file else _json_records(path)
    summary: dict[str, Any] = {"imported": 0, "inserted": 0, "updated": 0, "unchanged": 0}
    errors: list[dict[str, Any]] = []
    rejected = 0
    batch: list[StoreIn] = []

    def reject(where: dict[str, Any], problem: dict[str, str]) -> None:
        nonlocal rejected
        rejected += 1
        if len(errors) < MAX_ERRORS:
            errors.append(where | problem)

    def flush() -> None:
        with session_scope(write=True) as session:
            done = service.upsert_stores(session, batch)
        for key in ("inserted", "updated", "unchanged"):
            summary[key] += len(getattr(done, key))
        summary["imported"] += len(batch)
        batch.clear()

    try:
        for where, item in records:
            try:
                batch.append(_check(item))
            except BadRecord as exc:
                reject(where, exc.problem)
            except ValidationError as exc:
                for problem in service.problems(exc)[:1]:
                    reject(where, problem)
            if len(batch) >= BATCH:
                flush()
    except (ijson.JSONError, UnicodeDecodeError, csv.Error) as exc:
        reject({"index": None}, {"field": "file", "rule": "syntax", "message": str(exc)})
    if batch:
        flush()
    return summary | {"rejected": rejected, "errors": errors}
