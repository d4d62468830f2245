"""Loyalty API routes: campaign."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: campaign"])
