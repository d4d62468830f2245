"""Every loyalty router (all under ``/loyalty-api/api``)."""

from __future__ import annotations

from fastapi import APIRouter

from retailhub.loyalty.account.endpoints import router as account_router
from retailhub.loyalty.campaign.endpoints import router as campaign_router
from retailhub.loyalty.coupon.endpoints import router as coupon_router
from retailhub.loyalty.event.endpoints import router as event_router
from retailhub.loyalty.notification.endpoints import router as notification_router
from retailhub.loyalty.stats.endpoints import router as stats_router
from retailhub.loyalty.wallet.endpoints import router as wallet_router

ROUTERS: tuple[APIRouter, ...] = (
    account_router,
    campaign_router,
    coupon_router,
    wallet_router,
    event_router,
    notification_router,
    stats_router,
)
