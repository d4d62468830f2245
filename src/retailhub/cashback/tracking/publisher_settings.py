"""A publisher's cashback settings, kept in ``tenant.settings["cashback"]``:
``{"share": "0.70", "tier": "T1", "walletCredit": {"enabled": true, "pointsPerUnit": "100"}}``.

Missing keys take the defaults: the whole commission goes to the shopper (share 1), tier
"T1", no wallet credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from retailhub.errors import NotFound
from retailhub.models import Tenant

KEY = "cashback"


class WalletCreditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    pointsPerUnit: Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=4)] = Decimal("100")


class SettingsBody(BaseModel):
    """The body of ``PUT …/cashback-settings`` (omitted fields take their defaults)."""

    model_config = ConfigDict(extra="forbid")

    share: Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)] = Decimal("1")
    tier: Annotated[str, Field(min_length=1, max_length=32)] = "T1"
    walletCredit: WalletCreditBody = WalletCreditBody()


@dataclass(frozen=True)
class CashbackSettings:
    share: Decimal
    tier: str
    wallet_credit: bool
    points_per_unit: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "share": str(self.share),
            "tier": self.tier,
            "walletCredit": {
                "enabled": self.wallet_credit,
                "pointsPerUnit": str(self.points_per_unit),
            },
        }


def _parse(stored: Any) -> CashbackSettings:
    body = SettingsBody.model_validate(stored if isinstance(stored, dict) else {})
    return CashbackSettings(
        share=body.share,
        tier=body.tier,
        wallet_credit=body.walletCredit.enabled,
        points_per_unit=body.walletCredit.pointsPerUnit,
    )


def of_tenant(session: Session, tenant_id: int) -> CashbackSettings:
    settings = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
    return _parse((settings or {}).get(KEY))


def _tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"No publisher has slug '{slug}'")
    return tenant


def get(session: Session, *, slug: str) -> CashbackSettings:
    return _parse((_tenant(session, slug).settings or {}).get(KEY))


def put(session: Session, *, slug: str, body: SettingsBody) -> CashbackSettings:
    """Replace the publisher's settings (the other keys of ``tenant.settings`` stay)."""
    tenant = _tenant(session, slug)
    settings = _parse(body.model_dump())
    # A new dict: the JSON column is not mutation-tracked.
    tenant.settings = {**(tenant.settings or {}), KEY: settings.as_json()}
    session.flush()
    return settings
