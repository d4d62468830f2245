"""Every cashback router: the publisher API under ``/cashback`` and the operator's under
``/admin/api``."""

from __future__ import annotations

from fastapi import APIRouter

from retailhub.cashback.catalog.admin import router as catalog_admin_router
from retailhub.cashback.catalog.endpoints import router as catalog_router
from retailhub.cashback.tracking.admin import router as tracking_admin_router
from retailhub.cashback.tracking.endpoints import router as tracking_router

# The publisher's routers, whose tracking redirect and catalog reads are the network's hot
# paths, and the operator's (see ``retailhub.api`` for why the app orders them).
PUBLISHER_ROUTERS: tuple[APIRouter, ...] = (tracking_router, catalog_router)
OPERATOR_ROUTERS: tuple[APIRouter, ...] = (catalog_admin_router, tracking_admin_router)
