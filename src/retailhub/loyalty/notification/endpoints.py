"""Loyalty API routes: notifications and push bookkeeping."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: notification"])
