"""Every router of the application."""

from __future__ import annotations

from fastapi import APIRouter

from retailhub.auth.endpoints import router as auth_router
from retailhub.auth.loyalty_endpoints import router as loyalty_token_router
from retailhub.cashback.api import router as cashback_router
from retailhub.imports.endpoints import router as imports_router
from retailhub.loyalty.api import router as loyalty_router
from retailhub.retail.endpoints import router as retail_router
from retailhub.webhooks.endpoints import router as webhooks_router

router = APIRouter()
router.include_router(auth_router)
router.include_router(imports_router)
router.include_router(retail_router)
router.include_router(loyalty_token_router)
router.include_router(loyalty_router)
router.include_router(cashback_router)
router.include_router(webhooks_router)
