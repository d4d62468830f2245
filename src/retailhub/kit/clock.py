"""The platform's notion of "now": UTC, and settable in tests (BIRTHDAY campaigns, expiries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def freeze(at: datetime | None) -> None:
    """Pin the clock at ``at`` (None: let it run again). For tests and simulations."""
    global _frozen
    _frozen = at.astimezone(UTC) if at is not None else None


def shift(delta: timedelta) -> None:
    """Move the running clock by ``delta`` (accumulates)."""
    global _offset, _frozen
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


def reset() -> None:
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None
