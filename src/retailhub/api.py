"""Every router of the application, in the order requests are matched against them.

The app includes each of these routers itself rather than one router that includes them
all: FastAPI matches a request by walking its included routers level by level (and the
chosen level twice), so each level of nesting multiplies the cost of finding a route. Flat
and ordered with the hottest paths first (the cashback tracking redirect and catalog reads,
the data import API, the loyalty API; the operator's routes last), finding the route costs
tens of microseconds rather than hundreds. The routers' paths do not overlap, so their
order changes no answer.
"""

from __future__ import annotations

from fastapi import APIRouter

from retailhub.auth.endpoints import router as auth_router
from retailhub.auth.loyalty_endpoints import router as loyalty_token_router
from retailhub.cashback.api import OPERATOR_ROUTERS, PUBLISHER_ROUTERS
from retailhub.imports.endpoints import router as imports_router
from retailhub.loyalty.api import ROUTERS as LOYALTY_ROUTERS
from retailhub.retail.endpoints import router as retail_router
from retailhub.webhooks.endpoints import router as webhooks_router

ROUTERS: tuple[APIRouter, ...] = (
    *PUBLISHER_ROUTERS,
    imports_router,
    retail_router,
    *LOYALTY_ROUTERS,
    auth_router,
    loyalty_token_router,
    webhooks_router,
    *OPERATOR_ROUTERS,
)
