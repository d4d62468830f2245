"""Coupon answers (ours: the document publishes no response schema)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from retailhub.kit.timeutil import iso
from retailhub.loyalty.coupon.service import Verification

Reason = Literal["UNKNOWN", "NOT_OWNER", "NOT_YET_VALID", "EXPIRED", "USED_UP", "LOCKED"]


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CouponData(_Camel):
    """What the coupon is and how much of it is left (shown to its owner only)."""

    code: str
    campaign: str | None = Field(description="Public id of the campaign that issued it")
    state: str | None = Field(description="Id of the COUPON state that issued it")
    valid_from: str | None
    valid_until: str | None = Field(description="Exclusive end; null: no end")
    usage_limit: int
    used: int = Field(description="Redemptions by imported orders")
    locks: int = Field(description="Uses reserved by active locks")
    remaining: int = Field(description="max(usageLimit - used - locks, 0)")
    product_id: str | None
    category_id: str | None
    enable_key: str | None


class CouponVerification(_Camel):
    coupon: str
    account: str
    valid: bool = Field(description="The account can use the coupon now")
    reason: Reason | None = Field(description="Why not; null when valid")
    locked: bool = Field(description="This call reserved one use (lock=true)")
    lock_expires_at: str | None = Field(description="When that reservation lapses")
    data: CouponData | None = Field(description="null for UNKNOWN and NOT_OWNER")


def verification(result: Verification) -> CouponVerification:
    coupon = result.coupon
    data = None
    if coupon is not None:
        data = CouponData(
            code=coupon.code,
            campaign=result.campaign_id,
            state=coupon.state_id,
            valid_from=iso(coupon.valid_from),
            valid_until=iso(coupon.valid_until),
            usage_limit=coupon.usage_limit,
            used=coupon.used,
            locks=result.locks,
            remaining=result.remaining,
            product_id=coupon.product_id,
            category_id=coupon.category_id,
            enable_key=coupon.enable_key,
        )
    return CouponVerification(
        coupon=result.code,
        account=result.account_id,
        valid=result.valid,
        reason=result.reason,
        locked=result.locked,
        lock_expires_at=iso(result.lock_expires_at),
        data=data,
    )
