"""Account request bodies and the account JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from retailhub.loyalty.account import counters
from retailhub.loyalty.campaign import service as campaign_service
from retailhub.loyalty.coupon import service as coupon_service
from retailhub.loyalty.wallet import service as wallet_service
from retailhub.models import Customer, LoyaltyAccount, LoyaltyAccountTag, LoyaltyAccountVenue


class ProfileUpdate(BaseModel):
    """setMyProfile: only the fields sent change (an explicit null clears one)."""

    model_config = ConfigDict(extra="ignore")

    firstName: Annotated[str | None, Field(max_length=128)] = None
    lastName: Annotated[str | None, Field(max_length=128)] = None
    birthdate: date | None = None
    sex: Literal["MALE", "FEMALE", "OTHER"] | None = None


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z`` (SQLite hands back naive UTC datetimes)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tags_of(session: Session, tenant_id: int, account_pks: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {pk: [] for pk in account_pks}
    if account_pks:
        for pk, tag in session.execute(
            select(LoyaltyAccountTag.account_pk, LoyaltyAccountTag.tag)
            .where(
                LoyaltyAccountTag.tenant_id == tenant_id,
                LoyaltyAccountTag.account_pk.in_(account_pks),
            )
            .order_by(LoyaltyAccountTag.account_pk, LoyaltyAccountTag.tag)
        ):
            found[pk].append(tag)
    return found


def venues_of(session: Session, tenant_id: int, account_pks: list[int]) -> dict[int, list[str]]:
    """Venues most used first (then by name)."""
    found: dict[int, list[str]] = {pk: [] for pk in account_pks}
    if account_pks:
        v = LoyaltyAccountVenue
        for pk, venue in session.execute(
            select(v.account_pk, v.venue)
            .where(v.tenant_id == tenant_id, v.account_pk.in_(account_pks))
            .order_by(v.account_pk, v.orders.desc(), v.venue)
        ):
            found[pk].append(venue)
    return found


def _counters(account: LoyaltyAccount) -> dict[str, Any]:
    merged = dict(counters.ZERO_COUNTERS)
    merged.update(account.counters or {})
    return {
        k: (int(v) if isinstance(v, float) and v.is_integer() and k.startswith("orders") else v)
        for k, v in merged.items()
    }


def account_summary(
    account: LoyaltyAccount, *, tags: list[str], venues: list[str]
) -> dict[str, Any]:
    """The account as lists show it: everything but coupons, campaigns and wallet."""
    return {
        "id": account.account_id,
        "card": account.card,
        "mgm": account.mgm,
        "header": {
            "phone": account.phone,
            "email": account.email,
            "pushId": account.push_id,
            "firstName": account.first_name,
            "lastName": account.last_name,
            "birthdate": account.birthdate.isoformat() if account.birthdate else None,
            "sex": account.sex,
            "created": iso(account.created_at),
            "lastEvent": iso(account.last_event_at),
            "lastLogged": iso(account.last_logged_at),
            "lastOrder": iso(account.last_order_at),
        },
        "consents": {"scope": "ACCOUNT", "consents": dict(account.consents or {})},
        "tags": tags,
        "importantTags": list(account.important_tags or []),
        "venues": venues,
        "properties": dict(account.properties or {}),
        "counters": _counters(account),
        "relations": list(account.relations or []),
        "segment": account.segment,
    }


def account_read(session: Session, account: LoyaltyAccount) -> dict[str, Any]:
    """The whole account (getAccount, getAccountByCard, getMyAccount)."""
    tenant_id, pk = account.tenant_id, account.id
    body = account_summary(
        account,
        tags=tags_of(session, tenant_id, [pk])[pk],
        venues=venues_of(session, tenant_id, [pk])[pk],
    )
    body["coupons"] = coupon_service.codes_for_account(session, tenant_id=tenant_id, account_pk=pk)
    body["campaigns"] = campaign_service.states_for_account(
        session, tenant_id=tenant_id, account_pk=pk
    )
    wallet: dict[str, Any] = {
        "balance": wallet_service.balance(session, tenant_id=tenant_id, account_pk=pk)
    }
    if account.customer_id is not None:
        data = session.scalar(select(Customer.data).where(Customer.id == account.customer_id))
        if isinstance(data, dict) and isinstance(data.get("loyalty"), dict):
            wallet["imported"] = data["loyalty"]
    body["wallet"] = wallet
    return body
