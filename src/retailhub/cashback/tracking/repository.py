"""Every query of clicks, transactions, their changes and SKU lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from retailhub.kit.sql import is_pg
from retailhub.models import (
    CashbackClick,
    CashbackNetwork,
    CashbackSkuDetail,
    CashbackStore,
    CashbackTransaction,
    CashbackTransactionChange,
)

C = CashbackClick
T = CashbackTransaction
S = CashbackStore
K = CashbackSkuDetail


@dataclass(frozen=True)
class ClickFilter:
    shopper_id: str | None = None
    sid: str | None = None
    store_id: int | None = None
    store_name: str | None = None
    start: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class TransactionFilter:
    tenant_id: int | None = None
    ids: Sequence[int] | None = None
    shopper_id: str | None = None
    sids: Sequence[str] | None = None
    store_id: int | None = None
    status: str | None = None
    currency: str | None = None
    purchased_from: datetime | None = None
    purchased_before: datetime | None = None
    paid_from: datetime | None = None
    paid_before: datetime | None = None
    admin_comment: str | None = None
    modified_since: datetime | None = None


def _count(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def clicks_page(
    session: Session,
    *,
    tenant_id: int,
    where: ClickFilter,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[int, list[tuple[CashbackClick, str | None]]]:
    query = select(C, S.name).outerjoin(S, S.id == C.store_id).where(C.tenant_id == tenant_id)
    if where.shopper_id is not None:
        query = query.where(C.shopper_id == where.shopper_id)
    if where.sid is not None:
        query = query.where(C.sid == where.sid)
    if where.store_id is not None:
        query = query.where(C.store_id == where.store_id)
    if where.store_name is not None:
        query = query.where(func.lower(S.name).contains(where.store_name.lower(), autoescape=True))
    if where.start is not None:
        query = query.where(C.click_date >= where.start)
    if where.before is not None:
        query = query.where(C.click_date < where.before)
    total = _count(session, query)
    order = [C.click_date.desc(), C.id.desc()] if descending else [C.click_date, C.id]
    rows = session.execute(query.order_by(*order).offset(offset).limit(limit))
    return total, list(rows)


def click(
    session: Session, *, tenant_id: int, click_id: str
) -> tuple[CashbackClick, str | None] | None:
    row = session.execute(
        select(C, S.name)
        .outerjoin(S, S.id == C.store_id)
        .where(C.tenant_id == tenant_id, C.id == click_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def click_by_id(session: Session, click_id: str) -> CashbackClick | None:
    return session.get(C, click_id)


def _transaction_query(where: TransactionFilter) -> Select[CashbackTransaction, str]:
    query = select(T, S.name).join(S, S.id == T.store_id)
    if where.tenant_id is not None:
        query = query.where(T.tenant_id == where.tenant_id)
    if where.ids is not None:
        query = query.where(T.id.in_(list(where.ids)))
    if where.shopper_id is not None:
        query = query.where(T.shopper_id == where.shopper_id)
    if where.sids is not None:
        query = query.where(T.sid.in_(list(where.sids)))
    if where.store_id is not None:
        query = query.where(T.store_id == where.store_id)
    if where.status is not None:
        query = query.where(T.status == where.status)
    if where.currency is not None:
        query = query.where(T.currency == where.currency.upper())
    if where.purchased_from is not None:
        query = query.where(T.purchase_date >= where.purchased_from)
    if where.purchased_before is not None:
        query = query.where(T.purchase_date < where.purchased_before)
    if where.paid_from is not None:
        query = query.where(T.payment_date >= where.paid_from)
    if where.paid_before is not None:
        query = query.where(T.payment_date < where.paid_before)
    if where.admin_comment is not None:
        needle = where.admin_comment.lower()
        query = query.where(func.lower(T.admin_comment).contains(needle, autoescape=True))
    if where.modified_since is not None:
        query = query.where(T.updated_at >= where.modified_since)
    return query


def transactions_page(
    session: Session, *, where: TransactionFilter, offset: int, limit: int
) -> tuple[int, list[tuple[CashbackTransaction, str | None]]]:
    query = _transaction_query(where)
    total = _count(session, query)
    rows = session.execute(query.order_by(T.id).offset(offset).limit(limit))
    return total, list(rows)


def transaction(
    session: Session, *, transaction_id: int, tenant_id: int | None = None
) -> tuple[CashbackTransaction, str | None] | None:
    where = TransactionFilter(tenant_id=tenant_id, ids=[transaction_id])
    row = session.execute(_transaction_query(where)).first()
    return (row[0], row[1]) if row is not None else None


def lock_transactions(session: Session, ids: Sequence[int]) -> list[CashbackTransaction]:
    """Load transactions for a change, in id order, row-locked on PostgreSQL (SQLite's write
    transaction already excludes other writers)."""
    stmt = (
        select(T)
        .where(T.id.in_(list(ids)))
        .order_by(T.id)
        .execution_options(populate_existing=True)
    )
    if is_pg(session):
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt))


def lock_order(session: Session, *, store_id: int, order_number: str) -> CashbackTransaction | None:
    stmt = (
        select(T)
        .where(T.store_id == store_id, T.order_number == order_number)
        .execution_options(populate_existing=True)
    )
    if is_pg(session):
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def changes(session: Session, transaction_id: int) -> list[CashbackTransactionChange]:
    stmt = (
        select(CashbackTransactionChange)
        .where(CashbackTransactionChange.transaction_id == transaction_id)
        .order_by(CashbackTransactionChange.id)
    )
    return list(session.scalars(stmt))


def sku_lines(session: Session, transaction_id: int) -> list[CashbackSkuDetail]:
    stmt = select(K).where(K.transaction_id == transaction_id).order_by(K.id)
    return list(session.scalars(stmt))


def sku_page(
    session: Session,
    *,
    tenant_id: int,
    transaction_id: int | None,
    purchased_from: datetime | None,
    purchased_before: datetime | None,
    offset: int,
    limit: int,
) -> tuple[int, list[tuple[CashbackSkuDetail, CashbackTransaction, str | None]]]:
    query = (
        select(K, T, S.name)
        .join(T, T.id == K.transaction_id)
        .join(S, S.id == T.store_id)
        .where(K.tenant_id == tenant_id)
    )
    if transaction_id is not None:
        query = query.where(K.transaction_id == transaction_id)
    if purchased_from is not None:
        query = query.where(T.purchase_date >= purchased_from)
    if purchased_before is not None:
        query = query.where(T.purchase_date < purchased_before)
    total = _count(session, query)
    rows = session.execute(query.order_by(K.transaction_id, K.id).offset(offset).limit(limit))
    return total, list(rows)


def network_by_name(session: Session, name: str) -> CashbackNetwork | None:
    return session.scalar(select(CashbackNetwork).where(CashbackNetwork.name == name))


def networks(session: Session) -> list[CashbackNetwork]:
    return list(session.scalars(select(CashbackNetwork).order_by(CashbackNetwork.id)))
