"""Account queries: the AccountFilter, lists, counts and export rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from retailhub.errors import DomainError
from retailhub.models import (
    LoyaltyAccount,
    LoyaltyAccountTag,
    LoyaltyCampaign,
    LoyaltyCampaignMember,
)

A = LoyaltyAccount
FILTERS = (
    "id",
    "card",
    "email",
    "phone",
    "tag",
    "segment",
    "campaign",
    "createdFrom",
    "createdTo",
    "lastOrderFrom",
    "lastOrderTo",
    "q",
)
SORTS: dict[str, Any] = {
    "id": A.account_id,
    "created": A.created_at,
    "lastOrder": A.last_order_at,
    "email": A.email,
    "segment": A.segment,
}


def _values(name: str, value: Any) -> list[str]:
    """A filter value: a string, or a list of strings (any of them matches)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise DomainError(f"{name}: must be a string or a list of strings", field=name)
        out.append(str(item))
    if not out:
        raise DomainError(f"{name}: must not be empty", field=name)
    return out


def _bound(name: str, value: Any, *, upper: bool) -> tuple[datetime, bool]:
    """A range bound: a date-time, or a date (``…From`` = its start; ``…To`` = its whole
    day). Returns (instant, strict): strict bounds compare with ``<``."""
    if not isinstance(value, str):
        raise DomainError(f"{name}: must be a date or a date-time", field=name)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return (start + timedelta(days=1), True) if upper else (start, False)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(f"{name}: must be a date or a date-time (ISO 8601)", field=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), False


def conditions(tenant_id: int, filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    """Where clauses of an AccountFilter (all ANDed); unknown fields are refused."""
    where: list[ColumnElement[bool]] = [A.tenant_id == tenant_id]
    for name, value in filters.items():
        if name not in FILTERS:
            raise DomainError(
                f"{name}: unknown filter; use one of {', '.join(FILTERS)}", field=name
            )
        if value is None or value == "":
            continue
        if name == "id":
            where.append(A.account_id.in_(_values(name, value)))
        elif name == "card":
            where.append(A.card.in_(_values(name, value)))
        elif name == "email":
            where.append(A.email.in_([v.strip().lower() for v in _values(name, value)]))
        elif name == "phone":
            where.append(A.phone.in_(_values(name, value)))
        elif name == "segment":
            where.append(A.segment.in_(_values(name, value)))
        elif name == "tag":
            t = LoyaltyAccountTag
            where.append(
                exists().where(
                    t.tenant_id == A.tenant_id,
                    t.account_pk == A.id,
                    t.tag.in_(_values(name, value)),
                )
            )
        elif name == "campaign":
            m, c = LoyaltyCampaignMember, LoyaltyCampaign
            where.append(
                exists()
                .where(m.tenant_id == A.tenant_id, m.account_pk == A.id)
                .where(c.id == m.campaign_pk, c.campaign_id.in_(_values(name, value)))
            )
        elif name == "q":
            text = _values(name, value)[0]
            where.append(
                or_(
                    *(
                        col.icontains(text, autoescape=True)
                        for col in (
                            A.account_id,
                            A.email,
                            A.first_name,
                            A.last_name,
                            A.card,
                            A.phone,
                        )
                    )
                )
            )
        else:
            column = A.created_at if name.startswith("created") else A.last_order_at
            upper = name.endswith("To")
            moment, strict = _bound(name, value, upper=upper)
            if upper:
                where.append(column < moment if strict else column <= moment)
            else:
                where.append(column >= moment)
    return where


def list_accounts(
    session: Session,
    *,
    tenant_id: int,
    filters: dict[str, Any],
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[LoyaltyAccount], int]:
    where = conditions(tenant_id, filters)
    total = session.scalar(select(func.count()).select_from(A).where(*where)) or 0
    column = SORTS[sort]
    order = column.desc() if descending else column.asc()
    tie = A.id.desc() if descending else A.id.asc()
    rows = list(
        session.scalars(
            select(A).where(*where).order_by(order.nulls_last(), tie).offset(offset).limit(limit)
        )
    )
    return rows, int(total)


def count_accounts(session: Session, *, tenant_id: int, filters: dict[str, Any]) -> int:
    where = conditions(tenant_id, filters)
    return int(session.scalar(select(func.count()).select_from(A).where(*where)) or 0)


def export_select(tenant_id: int, filters: dict[str, Any], columns: list[Any]) -> Select[Any]:
    return select(A.id, *columns).where(*conditions(tenant_id, filters)).order_by(A.id)


def stream(session: Session, stmt: Select[Any], size: int = 1000) -> Iterator[list[Any]]:
    """Rows in partitions of ``size`` through a server-side cursor (PostgreSQL) or SQLite's
    lazy cursor: memory stays constant however many rows match."""
    result = session.execute(stmt.execution_options(yield_per=size, stream_results=True))
    for part in result.partitions():
        yield list(part)
