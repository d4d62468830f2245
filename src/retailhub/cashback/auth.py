"""Who calls the cashback API (a publisher, by its API key) and the operator API (the
operator, by its key).

Loyalize sends the raw key (``Authorization: <key>``); ``Authorization: Bearer <key>`` is
accepted as well.

A key found valid is trusted by this process for ``api_key_cache_seconds`` (the catalog
reads it guards are answered from memory, and a database read per request would cost more
than the answer); a wrong key is read every time, and never remembered.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from retailhub.auth import api_keys
from retailhub.config import get_settings
from retailhub.db import session_scope
from retailhub.errors import Unauthorized

MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True)
class Publisher:
    """A tenant calling the publisher API. ``cid`` is its public publisher id, the one its
    tracking links carry."""

    tenant_id: int
    tenant_slug: str

    @property
    def cid(self) -> int:
        return self.tenant_id


class _TrustedKeys:
    """Keys found valid, by (kind, key), until their time is up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[tuple[str, str], tuple[float, api_keys.KeyOwner]] = {}

    def get(self, kind: str, key: str) -> api_keys.KeyOwner | None:
        with self._lock:
            hit = self._owners.get((kind, key))
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, kind: str, key: str, owner: api_keys.KeyOwner) -> None:
        ttl = get_settings().api_key_cache_seconds
        if ttl <= 0:
            return
        with self._lock:
            if len(self._owners) >= MAX_CACHED_KEYS:
                self._owners.clear()
            self._owners[(kind, key)] = (time.monotonic() + ttl, owner)

    def clear(self) -> None:
        with self._lock:
            self._owners.clear()


trusted = _TrustedKeys()


def _key(request: Request) -> str | None:
    header = request.headers.get("authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        header = rest.strip()
    return header or None


def _read(key: str, kind: str) -> api_keys.KeyOwner | None:
    with session_scope() as session:
        return api_keys.authenticate(session, key, kind=kind)


async def _owner(request: Request, kind: str, message: str) -> api_keys.KeyOwner:
    key = _key(request)
    owner = None
    if key is not None:
        owner = trusted.get(kind, key)
        if owner is None:
            owner = await run_in_threadpool(_read, key, kind)
            if owner is not None:
                trusted.put(kind, key, owner)
    if owner is None:
        raise Unauthorized(message)
    return owner


async def publisher(request: Request) -> Publisher:
    owner = await _owner(request, api_keys.PUBLISHER, "API key is wrong.")
    assert owner.tenant_id is not None and owner.tenant_slug is not None
    return Publisher(tenant_id=owner.tenant_id, tenant_slug=owner.tenant_slug)


async def operator(request: Request) -> None:
    await _owner(request, api_keys.OPERATOR, "Operator key is wrong.")


PublisherDep = Annotated[Publisher, Depends(publisher)]
OperatorDep = Annotated[None, Depends(operator)]
