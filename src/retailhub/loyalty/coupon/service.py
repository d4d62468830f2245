"""Coupons: verify, lock, unlock, redemption by imported orders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from retailhub.loyalty.facts import OrderFact


def redeem_from_orders(session: Session, *, tenant_id: int, orders: Sequence[OrderFact]) -> None:
    """Orders whose ``coupon_code`` is a coupon of the tenant redeem it (once per order). STUB."""


def codes_for_account(session: Session, *, tenant_id: int, account_pk: int) -> list[str]:
    """Codes of the account's coupons that can still be used. STUB."""
    return []
