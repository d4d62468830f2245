"""Query parameters of the publisher lists: dates, instants and comma lists (400 naming the
parameter when malformed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from retailhub.errors import DomainError


def _date(value: str, field: str) -> date:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDT…`` (the document's two forms): the UTC day."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return instant(value, field).date()
    except ValueError as exc:
        raise DomainError(
            f"{field}: expected YYYY-MM-DD or YYYY-MM-DDT00:00:00Z, got '{value}'", field=field
        ) from exc


def day_start(value: str | None, field: str) -> datetime | None:
    """The first instant of the day (an inclusive lower bound)."""
    if value is None:
        return None
    return datetime.combine(_date(value, field), time(), UTC)


def day_after(value: str | None, field: str) -> datetime | None:
    """The first instant after the day (an exclusive upper bound: the day is included)."""
    if value is None:
        return None
    return datetime.combine(_date(value, field) + timedelta(days=1), time(), UTC)


def instant(value: str, field: str) -> datetime:
    """An ISO 8601 instant (UTC when it has no zone)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise DomainError(
            f"{field}: expected an ISO 8601 instant, got '{value}'", field=field
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def str_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def int_list(value: str | None, field: str) -> list[int] | None:
    parts = str_list(value)
    if parts is None:
        return None
    try:
        return [int(part) for part in parts]
    except ValueError as exc:
        raise DomainError(
            f"{field}: expected a comma list of ids, got '{value}'", field=field
        ) from exc
