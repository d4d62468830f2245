"""Loyalty API routes: coupon."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query

from retailhub.db import session_scope
from retailhub.deps import SessionDep
from retailhub.errors import DomainError
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.coupon import service
from retailhub.loyalty.coupon.schemas import CouponVerification, verification
from retailhub.loyalty.deps import AccountService, User

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: coupon"])

ACCOUNT_RE = re.compile(r"^[a-zA-Z0-9._-]{3,64}$")

VERIFY_DOC = """
The answer (ours; the document publishes none): `{coupon, account, valid, reason, locked,
lockExpiresAt, data}`. `reason` is null when `valid`, else the first that applies of
`UNKNOWN` (no coupon with this code in the tenant), `NOT_OWNER` (another account's coupon),
`NOT_YET_VALID` (before `validFrom`), `EXPIRED` (at or after `validUntil`), `USED_UP`
(`used` ≥ `usageLimit`), `LOCKED` (every remaining use is reserved by an active lock).
`data` (`code, campaign, state, validFrom, validUntil, usageLimit, used, locks, remaining,
productId, categoryId, enableKey`) is null for UNKNOWN and NOT_OWNER, so nothing about
another account's coupon leaks. Always 200 when the parameters are valid: an unusable coupon
is an answer, not an error.
"""


def _answer_doc(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Append the shared part of the docstring (read by the route decorator above it)."""
    endpoint.__doc__ = (endpoint.__doc__ or "") + VERIFY_DOC
    return endpoint


def _check_account(value: str) -> str:
    if not ACCOUNT_RE.match(value):
        raise DomainError("account: must be 3-64 characters of [a-zA-Z0-9._-]", field="account")
    return value


# UNIT_OF_WORK: the writing endpoints open their transaction in their own body instead of
# taking ``WriteSessionDep``. A yield dependency enters and leaves the transaction in two
# more worker-thread calls; under more concurrent requests than the worker pool has threads,
# every thread can end up waiting for the coupon row (PostgreSQL) or the write turn (SQLite)
# while the holder waits for a free thread to commit: a stall until the pool times out.
# In the endpoint body, the holder keeps its thread from the lock to the commit.
CouponParam = Annotated[str, Query(description="Coupon code, [a-zA-Z0-9_-]+")]
AccountParam = Annotated[str, Query(description="Account id, 3-64 of [a-zA-Z0-9._-]")]


@router.get(
    "/account/my/coupon/verify", operation_id="verifyCoupon", response_model=CouponVerification
)
@_answer_doc
def verify_coupon(session: SessionDep, user: User, coupon: CouponParam) -> CouponVerification:
    """Verify if campaign coupon can be used (by the account of the end-user token). Never writes:
    an end user cannot lock."""
    service.check_code(coupon)
    account = account_service.get(
        session, tenant_id=user.tenant_id, account_id=str(user.account_id)
    )
    return verification(
        service.verify(session, tenant_id=user.tenant_id, account=account, code=coupon)
    )


@router.post(
    "/account/coupon/verify",
    operation_id="verifyArbitraryAccountCoupon",
    response_model=CouponVerification,
)
@_answer_doc
def verify_arbitrary_account_coupon(
    principal: AccountService,
    coupon: CouponParam,
    account: AccountParam,
    lock: Annotated[bool, Query(description="Reserve one use (default false)")] = False,
) -> CouponVerification:
    """Verify if campaign coupon can be used for any account (service token, ROLE_LOYALTY). An
    unknown `account` is 404. With `lock=true` a usable coupon gets one use reserved for
    `loyalty_coupon_lock_seconds` (default 300 s; `locked: true` and `lockExpiresAt` in the
    answer); every further `lock=true` call reserves one more use, so a retry of the same
    order gets `LOCKED` on a single-use coupon until it is unlocked. Concurrent locks never
    exceed the remaining uses. A lock is released by unlockArbitraryAccountCoupon, by its
    expiry, or when an imported order redeems the coupon. Without `lock` (or when the coupon
    is not usable) nothing is written."""
    service.check_code(coupon)
    _check_account(account)
    # A write unit of work only when the call may write; opened in the endpoint, see
    # UNIT_OF_WORK.
    with session_scope(write=lock) as session:
        found = account_service.get(session, tenant_id=principal.tenant_id, account_id=account)
        return verification(
            service.verify(
                session, tenant_id=principal.tenant_id, account=found, code=coupon, lock=lock
            )
        )


@router.post(
    "/account/coupon/unlock",
    operation_id="unlockArbitraryAccountCoupon",
    response_model=CouponVerification,
)
@_answer_doc
def unlock_arbitrary_account_coupon(
    principal: AccountService, coupon: CouponParam, account: AccountParam
) -> CouponVerification:
    """Unlock coupon manually for any account (service token, ROLE_LOYALTY): releases the account's
    oldest active lock of the coupon and answers the verification as it stands after the
    release (`locked: false`). 404 when the account is unknown, the coupon is not the
    account's, or the account holds no active lock of it (an expired lock was already
    released)."""
    service.check_code(coupon)
    _check_account(account)
    with session_scope(write=True) as session:
        found = account_service.get(session, tenant_id=principal.tenant_id, account_id=account)
        return verification(
            service.unlock(session, tenant_id=principal.tenant_id, account=found, code=coupon)
        )
