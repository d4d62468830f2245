"""Every cashback router: the publisher API under ``/cashback`` and the operator's under
``/admin/api``."""

from __future__ import annotations

from fastapi import APIRouter

from retailhub.cashback.catalog.admin import router as catalog_admin_router
from retailhub.cashback.catalog.endpoints import router as catalog_router
from retailhub.cashback.tracking.admin import router as tracking_admin_router
from retailhub.cashback.tracking.endpoints import router as tracking_router

router = APIRouter()
for sub in (catalog_router, tracking_router, catalog_admin_router, tracking_admin_router):
    router.include_router(sub)
