"""Every wallet query. An earn's remainder is its points plus the (negative) entries that
name it in ``earn_pk``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, exists, func, insert, literal, null, or_, select
from sqlalchemy.orm import Session, aliased

from retailhub.kit.reactadmin import ListQuery
from retailhub.kit.sql import affected
from retailhub.models import LoyaltyAccount, LoyaltyWalletEntry

W = LoyaltyWalletEntry
ENTRIES: Table = LoyaltyWalletEntry.__table__  # type: ignore[assignment]
SORTS: dict[str, Any] = {"id": W.id, "createdAt": W.created_at, "points": W.points, "kind": W.kind}


def _drawn(earn_id: Any, kinds: Sequence[str] | None = None) -> Any:
    """Sum of the entries naming the earn ``earn_id`` (optionally of some kinds only)."""
    child = aliased(LoyaltyWalletEntry)
    stmt = select(func.coalesce(func.sum(child.points), 0)).where(child.earn_pk == earn_id)
    if kinds is not None:
        stmt = stmt.where(child.kind.in_(list(kinds)))
    return stmt.scalar_subquery()


def lock_account(session: Session, account_pk: int) -> None:
    """Serialize the wallet writes of one account (PostgreSQL row lock; no-op on SQLite,
    where the write transaction already serializes writers)."""
    session.execute(
        select(LoyaltyAccount.id).where(LoyaltyAccount.id == account_pk).with_for_update()
    )


def lock_accounts_of_earns(session: Session, earns: Any) -> None:
    """Row-lock, in id order, the accounts owning the earns selected by ``earns`` (a select
    of ``W.account_pk``): set-based writers then serialize with spends."""
    session.execute(
        select(LoyaltyAccount.id)
        .where(LoyaltyAccount.id.in_(earns))
        .order_by(LoyaltyAccount.id)
        .with_for_update()
    )


def balance(session: Session, *, tenant_id: int, account_pk: int) -> int:
    stmt = select(func.coalesce(func.sum(W.points), 0)).where(
        W.tenant_id == tenant_id, W.account_pk == account_pk
    )
    return int(session.scalar(stmt) or 0)


def spendable_earns(
    session: Session, *, tenant_id: int, account_pk: int, now: datetime
) -> list[tuple[int, int]]:
    """(earn id, remainder) of the account's unexpired earns with points left, oldest first."""
    remainder = W.points + _drawn(W.id)
    stmt = (
        select(W.id, remainder)
        .where(
            W.tenant_id == tenant_id,
            W.account_pk == account_pk,
            W.kind == "earn",
            or_(W.expires_at.is_(None), W.expires_at > now),
            remainder > 0,
        )
        .order_by(W.created_at, W.id)
    )
    return [(int(r[0]), int(r[1])) for r in session.execute(stmt).all()]


def remainders(session: Session, earn_ids: Sequence[int]) -> dict[int, int]:
    if not earn_ids:
        return {}
    stmt = select(W.id, W.points + _drawn(W.id)).where(W.id.in_(list(earn_ids)))
    return {int(r[0]): int(r[1]) for r in session.execute(stmt).all()}


def _expired_earns(tenant_id: int, now: datetime) -> tuple[Any, Any]:
    """Conditions for earns past ``expires_at`` with an unspent remainder and no ``expire``
    entry yet, and that remainder."""
    remainder = W.points + _drawn(W.id)
    marker = aliased(LoyaltyWalletEntry)
    already = exists().where(marker.earn_pk == W.id, marker.kind == "expire")
    where = (
        W.tenant_id == tenant_id,
        W.kind == "earn",
        W.expires_at.is_not(None),
        W.expires_at <= now,
        ~already,
        remainder > 0,
    )
    return where, remainder


def insert_expiries(session: Session, *, tenant_id: int, now: datetime, lock: bool) -> int:
    where, remainder = _expired_earns(tenant_id, now)
    if lock:
        lock_accounts_of_earns(session, select(W.account_pk).where(*where))
    rows = select(
        W.tenant_id,
        W.account_pk,
        literal("expire"),
        -remainder,
        W.id,
        null(),
        literal("expiry"),
        null(),
        literal(now, type_=W.created_at.type),
    ).where(*where)
    return affected(session, insert(ENTRIES).from_select(_COLUMNS, rows))


_COLUMNS = [
    "tenant_id",
    "account_pk",
    "kind",
    "points",
    "earn_pk",
    "expires_at",
    "source",
    "order_number",
    "created_at",
]


def insert_reversals(
    session: Session, *, tenant_id: int, order_numbers: Sequence[str], now: datetime, lock: bool
) -> int:
    """One ``reverse`` entry per earn of these orders not reversed yet, for its points less
    what already expired (what expired is gone already; a spent part becomes a debt)."""
    outstanding = W.points + _drawn(W.id, ["expire"])
    marker = aliased(LoyaltyWalletEntry)
    already = exists().where(marker.earn_pk == W.id, marker.kind == "reverse")
    where = (
        W.tenant_id == tenant_id,
        W.kind == "earn",
        W.order_number.in_(list(order_numbers)),
        ~already,
        outstanding > 0,
    )
    if lock:
        lock_accounts_of_earns(session, select(W.account_pk).where(*where))
    rows = select(
        W.tenant_id,
        W.account_pk,
        literal("reverse"),
        -outstanding,
        W.id,
        null(),
        literal("reversal"),
        W.order_number,
        literal(now, type_=W.created_at.type),
    ).where(*where)
    return affected(session, insert(ENTRIES).from_select(_COLUMNS, rows))


def page(
    session: Session, *, tenant_id: int, account_pk: int, query: ListQuery, kind: str | None
) -> tuple[int, list[LoyaltyWalletEntry]]:
    where = [W.tenant_id == tenant_id, W.account_pk == account_pk]
    if kind is not None:
        where.append(W.kind == kind)
    total = int(session.scalar(select(func.count()).select_from(W).where(*where)) or 0)
    column = SORTS[query.sort]
    order = [column.desc(), W.id.desc()] if query.descending else [column.asc(), W.id.asc()]
    stmt = select(W).where(*where).order_by(*order).offset(query.offset).limit(query.limit)
    return total, list(session.scalars(stmt))
