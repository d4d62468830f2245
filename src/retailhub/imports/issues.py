"""What went wrong with a record, in the words the import report uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

VALUE_LIMIT = 200

# pydantic error types -> the rule names our reports use (documented in the OpenAPI text).
_RULES = {
    "missing": "required",
    "string_too_long": "maxLength",
    "string_too_short": "minLength",
    "greater_than_equal": "range",
    "less_than_equal": "range",
    "greater_than": "range",
    "less_than": "range",
    "finite_number": "type",
    "enum": "enum",
    "literal_error": "enum",
    "datetime_parsing": "format",
    "datetime_from_date_parsing": "format",
    "datetime_type": "format",
    "datetime_object_invalid": "format",
}


@dataclass(slots=True)
class Issue:
    severity: str  # error | warning
    field: str
    rule: str
    message: str
    value: str | None = None
    index: int | None = None
    line: int | None = None


def render_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value, default=str).decode()
        except TypeError:
            text = repr(value)
    if len(text) > VALUE_LIMIT:
        return text[:VALUE_LIMIT] + "…"
    return text


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path or "(record)"


def from_validation_error(exc: ValidationError, *, index: int | None) -> list[Issue]:
    issues = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        value = err.get("input")
        if kind == "missing":
            value = None
        rule = _RULES.get(kind)
        message = err["msg"]
        if rule is None:
            if value is None and kind.endswith("_type"):
                rule, message = "required", "Field required (null is not allowed)"
            else:
                rule = "type"
        issues.append(
            Issue(
                severity="error",
                field=field_path(err["loc"]),
                rule=rule,
                message=message,
                value=render_value(value),
                index=index,
            )
        )
    return issues
