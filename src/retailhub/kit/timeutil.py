from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Listrak: timestamps without a zone are US Eastern.
EASTERN = ZoneInfo("America/New_York")


def to_utc(value: datetime) -> datetime:
    """Aware datetimes are converted; naive ones are read as US Eastern."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=EASTERN)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive values; they were stored as UTC.
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
