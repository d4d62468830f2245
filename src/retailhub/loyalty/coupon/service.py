"""Coupons: verify, lock, unlock, redemption by imported orders.

A coupon belongs to one account and may be used ``usage_limit`` times. ``used`` counts its
redemptions; a lock reserves one use until it expires, is unlocked or is redeemed. The
number of holders (``used`` + active locks) never exceeds the limit when locking: the lock
is taken under the coupon's row lock (PostgreSQL ``SELECT … FOR UPDATE``; on SQLite the
write transaction, ``BEGIN IMMEDIATE``, already serializes every writer)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from retailhub.config import get_settings
from retailhub.errors import Conflict, DomainError, NotFound
from retailhub.kit import clock
from retailhub.loyalty.coupon import repository
from retailhub.loyalty.facts import UNDONE_STATUSES, OrderFact
from retailhub.loyalty.stats import service as stats_service
from retailhub.models import LoyaltyAccount, LoyaltyCoupon

CODE_RE = re.compile(r"^[a-zA-Z0-9_-]+$")
CODE_MAX = 64
CHUNK = 500

UNKNOWN = "UNKNOWN"
NOT_OWNER = "NOT_OWNER"
NOT_YET_VALID = "NOT_YET_VALID"
EXPIRED = "EXPIRED"
USED_UP = "USED_UP"
LOCKED = "LOCKED"


def check_code(value: str, field: str = "coupon") -> str:
    if not CODE_RE.match(value):
        raise DomainError(f"{field}: must be one or more characters of [a-zA-Z0-9_-]", field=field)
    return value


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class Verification:
    """The answer of verify / lock / unlock."""

    code: str
    account_id: str
    reason: str | None
    coupon: LoyaltyCoupon | None = None  # None when UNKNOWN or NOT_OWNER (nothing leaks)
    campaign_id: str | None = None
    locks: int = 0
    locked: bool = False
    lock_expires_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.reason is None

    @property
    def remaining(self) -> int:
        if self.coupon is None:
            return 0
        return max(self.coupon.usage_limit - self.coupon.used - self.locks, 0)


def _reason(coupon: LoyaltyCoupon, locks: int, now: datetime) -> str | None:
    valid_from, valid_until = _aware(coupon.valid_from), _aware(coupon.valid_until)
    if valid_from is not None and now < valid_from:
        return NOT_YET_VALID
    if valid_until is not None and now >= valid_until:
        return EXPIRED
    if coupon.used >= coupon.usage_limit:
        return USED_UP
    if coupon.used + locks >= coupon.usage_limit:
        return LOCKED
    return None


def issue(
    session: Session,
    *,
    tenant_id: int,
    account_pk: int,
    code: str | None = None,
    valid_days: int | None = 30,
    usage_limit: int = 1,
    campaign_pk: int | None = None,
    state_id: str | None = None,
    product_id: str | None = None,
    category_id: str | None = None,
    enable_key: str | None = None,
) -> LoyaltyCoupon:
    """Issue a coupon to an account, valid from now for ``valid_days`` (None: no end).
    Without ``code`` a random 12-character code is drawn. Does not bump ``coupons_issued``:
    the caller (the campaign engine) counts what it issues."""
    if usage_limit < 1:
        raise DomainError("usageLimit: must be at least 1", field="usageLimit")
    if valid_days is not None and valid_days < 1:
        raise DomainError("validDays: must be at least 1", field="validDays")
    if code is None:
        code = secrets.token_hex(6).upper()
    check_code(code, "code")
    if len(code) > CODE_MAX:
        raise DomainError(f"code: at most {CODE_MAX} characters", field="code")
    if repository.code_exists(session, tenant_id=tenant_id, code=code):
        raise Conflict(f"Coupon '{code}' already exists")
    now = clock.now()
    coupon = LoyaltyCoupon(
        tenant_id=tenant_id,
        code=code,
        account_pk=account_pk,
        campaign_pk=campaign_pk,
        state_id=state_id,
        valid_from=now,
        valid_until=now + timedelta(days=valid_days) if valid_days is not None else None,
        usage_limit=usage_limit,
        used=0,
        product_id=product_id,
        category_id=category_id,
        enable_key=enable_key,
        created_at=now,
    )
    session.add(coupon)
    session.flush()
    return coupon


def verify(
    session: Session, *, tenant_id: int, account: LoyaltyAccount, code: str, lock: bool = False
) -> Verification:
    """Can ``account`` use the coupon now, and why not. Without ``lock`` nothing is written;
    with ``lock`` a usable coupon gets one use reserved for ``loyalty_coupon_lock_seconds``
    (the session must be a write unit of work)."""
    check_code(code)
    now = clock.now()
    coupon = repository.by_code(session, tenant_id=tenant_id, code=code, for_update=lock)
    if coupon is None:
        return Verification(code=code, account_id=account.account_id, reason=UNKNOWN)
    if coupon.account_pk != account.id:
        return Verification(code=code, account_id=account.account_id, reason=NOT_OWNER)
    if lock:
        # Expired locks no longer count; drop them while the row lock is ours anyway.
        repository.delete_expired_locks(
            session, tenant_id=tenant_id, coupon_pks=[coupon.id], now=now
        )
    locks = repository.active_locks(session, tenant_id=tenant_id, coupon_pk=coupon.id, now=now)
    reason = _reason(coupon, locks, now)
    locked, expires_at = False, None
    if lock and reason is None:
        expires_at = now + timedelta(seconds=get_settings().loyalty_coupon_lock_seconds)
        repository.insert_lock(
            session,
            tenant_id=tenant_id,
            coupon_pk=coupon.id,
            account_pk=account.id,
            now=now,
            expires_at=expires_at,
        )
        locks += 1
        locked = True
    return Verification(
        code=code,
        account_id=account.account_id,
        reason=reason,
        coupon=coupon,
        campaign_id=repository.campaign_public_id(session, coupon.campaign_pk),
        locks=locks,
        locked=locked,
        lock_expires_at=expires_at,
    )


def unlock(session: Session, *, tenant_id: int, account: LoyaltyAccount, code: str) -> Verification:
    """Release the account's oldest active lock of the coupon; 404 when the coupon is not
    the account's or it holds no active lock. Answers the verification after the release."""
    check_code(code)
    now = clock.now()
    coupon = repository.by_code(session, tenant_id=tenant_id, code=code, for_update=True)
    if coupon is None or coupon.account_pk != account.id:
        raise NotFound(f"Coupon '{code}' of account '{account.account_id}' not found")
    repository.delete_expired_locks(session, tenant_id=tenant_id, coupon_pks=[coupon.id], now=now)
    if not repository.release_oldest_lock(
        session, tenant_id=tenant_id, coupon_pk=coupon.id, account_pk=account.id, now=now
    ):
        raise NotFound(
            f"Coupon '{code}' has no active lock of account '{account.account_id}' to unlock"
        )
    locks = repository.active_locks(session, tenant_id=tenant_id, coupon_pk=coupon.id, now=now)
    return Verification(
        code=code,
        account_id=account.account_id,
        reason=_reason(coupon, locks, now),
        coupon=coupon,
        campaign_id=repository.campaign_public_id(session, coupon.campaign_pk),
        locks=locks,
    )


def redeem_from_orders(session: Session, *, tenant_id: int, orders: Sequence[OrderFact]) -> None:
    """Orders whose ``coupon_code`` is a coupon of the tenant redeem it (once per order).

    The sale happened, so a redemption is recorded even when the order's account is not the
    coupon's owner, or the coupon is expired or used up (``used`` may then exceed the limit;
    verify answers USED_UP). Orders imported as Returned/Canceled do not redeem; a later
    return does not give the use back. Each new redemption releases one active lock of the
    coupon (the order's account's first), and counts ``coupons_redeemed`` for its campaign.
    """
    wanted = [
        o for o in orders if o.coupon_code and o.status not in UNDONE_STATUSES and o.order_number
    ]
    if not wanted:
        return
    now = clock.now()
    codes = sorted({str(o.coupon_code) for o in wanted})
    found: dict[str, tuple[int, int | None]] = {}
    for start in range(0, len(codes), CHUNK):
        for row in repository.coupons_by_codes_for_update(
            session, tenant_id=tenant_id, codes=codes[start : start + CHUNK]
        ):
            found[row.code] = (int(row.id), row.campaign_pk)
    if not found:
        return
    rows: dict[tuple[int, str], dict[str, object]] = {}
    account_of: dict[tuple[int, str], int] = {}
    for order in wanted:
        hit = found.get(str(order.coupon_code))
        if hit is None:
            continue
        key = (hit[0], order.order_number)
        rows.setdefault(
            key,
            {
                "tenant_id": tenant_id,
                "coupon_pk": hit[0],
                "order_number": order.order_number,
                "redeemed_at": now,
            },
        )
        account_of[key] = order.account_pk
    values = list(rows.values())
    inserted: list[tuple[int, str]] = []
    for start in range(0, len(values), CHUNK):
        inserted += repository.insert_redemptions(session, values[start : start + CHUNK])
    if not inserted:
        return
    touched = sorted({coupon_pk for coupon_pk, _ in inserted})
    repository.recount_used(session, tenant_id=tenant_id, coupon_pks=touched)
    repository.delete_expired_locks(session, tenant_id=tenant_id, coupon_pks=touched, now=now)
    repository.release_locks_for(
        session,
        tenant_id=tenant_id,
        pairs=[(c, account_of[(c, number)]) for c, number in inserted],
        now=now,
    )
    campaign_of = {pk: campaign for pk, campaign in found.values()}
    per_campaign: dict[int, int] = {}
    for coupon_pk, _number in inserted:
        campaign_pk = campaign_of.get(coupon_pk)
        if campaign_pk is not None:
            per_campaign[campaign_pk] = per_campaign.get(campaign_pk, 0) + 1
    for campaign_pk, count in sorted(per_campaign.items()):
        stats_service.bump(
            session,
            tenant_id=tenant_id,
            campaign_pk=campaign_pk,
            metric="coupons_redeemed",
            by=count,
        )


def codes_for_account(session: Session, *, tenant_id: int, account_pk: int) -> list[str]:
    """Codes of the account's coupons that can still be used: valid now and not used up
    (locked ones included: they are reserved for this account), oldest first."""
    return repository.usable_codes(
        session, tenant_id=tenant_id, account_pk=account_pk, now=clock.now()
    )
