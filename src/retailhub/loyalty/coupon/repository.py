"""Every coupon query (coupons, their locks and redemptions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, select, update
from sqlalchemy.orm import Session

from retailhub.kit.sql import upsert
from retailhub.models import (
    LoyaltyCampaign,
    LoyaltyCoupon,
    LoyaltyCouponLock,
    LoyaltyCouponRedemption,
)

LOCKS: Table = LoyaltyCouponLock.__table__  # type: ignore[assignment]
REDEMPTIONS: Table = LoyaltyCouponRedemption.__table__  # type: ignore[assignment]
COUPONS: Table = LoyaltyCoupon.__table__  # type: ignore[assignment]


def by_code(
    session: Session, *, tenant_id: int, code: str, for_update: bool = False
) -> LoyaltyCoupon | None:
    """The tenant's coupon with this code. ``for_update``: hold its row lock (PostgreSQL
    ``SELECT … FOR UPDATE``; SQLite has none and relies on the write transaction)."""
    stmt = select(LoyaltyCoupon).where(
        LoyaltyCoupon.tenant_id == tenant_id, LoyaltyCoupon.code == code
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def code_exists(session: Session, *, tenant_id: int, code: str) -> bool:
    stmt = select(LoyaltyCoupon.id).where(
        LoyaltyCoupon.tenant_id == tenant_id, LoyaltyCoupon.code == code
    )
    return session.scalar(stmt) is not None


def campaign_public_id(session: Session, campaign_pk: int | None) -> str | None:
    if campaign_pk is None:
        return None
    return session.scalar(
        select(LoyaltyCampaign.campaign_id).where(LoyaltyCampaign.id == campaign_pk)
    )


def active_locks(session: Session, *, tenant_id: int, coupon_pk: int, now: datetime) -> int:
    # tenant_id leads the (tenant_id, coupon_pk) index of the locks: always name it.
    stmt = select(func.count()).where(
        LoyaltyCouponLock.tenant_id == tenant_id,
        LoyaltyCouponLock.coupon_pk == coupon_pk,
        LoyaltyCouponLock.expires_at > now,
    )
    return int(session.scalar(stmt) or 0)


def delete_expired_locks(
    session: Session, *, tenant_id: int, coupon_pks: Iterable[int], now: datetime
) -> None:
    pks = list(coupon_pks)
    if pks:
        session.execute(
            delete(LOCKS).where(
                LOCKS.c.tenant_id == tenant_id,
                LOCKS.c.coupon_pk.in_(pks),
                LOCKS.c.expires_at <= now,
            )
        )


def insert_lock(
    session: Session,
    *,
    tenant_id: int,
    coupon_pk: int,
    account_pk: int,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.execute(
        LOCKS.insert().values(
            tenant_id=tenant_id,
            coupon_pk=coupon_pk,
            account_pk=account_pk,
            locked_at=now,
            expires_at=expires_at,
        )
    )


def _oldest_active_lock() -> Any:
    """The oldest active lock of coupon ``:coupon``, the ones of account ``:account`` first."""
    return (
        select(LOCKS.c.id)
        .where(
            LOCKS.c.tenant_id == bindparam("tenant"),
            LOCKS.c.coupon_pk == bindparam("coupon"),
            LOCKS.c.expires_at > bindparam("now"),
        )
        .order_by(
            case((LOCKS.c.account_pk == bindparam("account"), 0), else_=1),
            LOCKS.c.locked_at,
            LOCKS.c.id,
        )
        .limit(1)
        .scalar_subquery()
    )


def release_oldest_lock(
    session: Session, *, tenant_id: int, coupon_pk: int, account_pk: int, now: datetime
) -> bool:
    """Delete the account's oldest active lock of the coupon; False when it holds none."""
    stmt = select(LOCKS.c.id).where(
        LOCKS.c.tenant_id == tenant_id,
        LOCKS.c.coupon_pk == coupon_pk,
        LOCKS.c.account_pk == account_pk,
        LOCKS.c.expires_at > now,
    )
    lock_id = session.scalar(stmt.order_by(LOCKS.c.locked_at, LOCKS.c.id).limit(1))
    if lock_id is None:
        return False
    session.execute(delete(LOCKS).where(LOCKS.c.id == lock_id))
    return True


def release_locks_for(
    session: Session, *, tenant_id: int, pairs: Sequence[tuple[int, int]], now: datetime
) -> None:
    """For each (coupon_pk, account_pk): release one active lock of the coupon, the account's
    own first (one executemany)."""
    if pairs:
        session.execute(
            delete(LOCKS).where(LOCKS.c.id == _oldest_active_lock()),
            [{"tenant": tenant_id, "coupon": c, "account": a, "now": now} for c, a in pairs],
        )


def coupons_by_codes_for_update(
    session: Session, *, tenant_id: int, codes: Sequence[str]
) -> list[Any]:
    """(id, code, account_pk, campaign_pk) of the tenant's coupons among ``codes``, their rows
    locked in id order (so concurrent imports never deadlock)."""
    stmt = (
        select(COUPONS.c.id, COUPONS.c.code, COUPONS.c.account_pk, COUPONS.c.campaign_pk)
        .where(COUPONS.c.tenant_id == tenant_id, COUPONS.c.code.in_(list(codes)))
        .order_by(COUPONS.c.id)
        .with_for_update()
    )
    return list(session.execute(stmt).all())


def insert_redemptions(session: Session, rows: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
    """Insert redemption rows, skipping ones already there; (coupon_pk, order_number) of the
    rows inserted."""
    if not rows:
        return []
    stmt = (
        upsert(session, REDEMPTIONS)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["tenant_id", "coupon_pk", "order_number"])
        .returning(REDEMPTIONS.c.coupon_pk, REDEMPTIONS.c.order_number)
    )
    return [(int(r[0]), str(r[1])) for r in session.execute(stmt).all()]


def recount_used(session: Session, *, tenant_id: int, coupon_pks: Sequence[int]) -> None:
    """``used`` = the coupon's redemptions (set-based)."""
    if not coupon_pks:
        return
    count = (
        select(func.count())
        .select_from(REDEMPTIONS)
        .where(REDEMPTIONS.c.tenant_id == tenant_id, REDEMPTIONS.c.coupon_pk == COUPONS.c.id)
        .scalar_subquery()
    )
    session.execute(update(COUPONS).where(COUPONS.c.id.in_(list(coupon_pks))).values(used=count))


def usable_codes(session: Session, *, tenant_id: int, account_pk: int, now: datetime) -> list[str]:
    stmt = (
        select(LoyaltyCoupon.code)
        .where(
            LoyaltyCoupon.tenant_id == tenant_id,
            LoyaltyCoupon.account_pk == account_pk,
            LoyaltyCoupon.valid_from <= now,
            (LoyaltyCoupon.valid_until.is_(None)) | (LoyaltyCoupon.valid_until > now),
            LoyaltyCoupon.used < LoyaltyCoupon.usage_limit,
        )
        .order_by(LoyaltyCoupon.id)
    )
    return list(session.scalars(stmt))
