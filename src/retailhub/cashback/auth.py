"""Who calls the cashback API (a publisher, by its API key) and the operator API (the
operator, by its key).

Loyalize sends the raw key (``Authorization: <key>``); ``Authorization: Bearer <key>`` is
accepted as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from retailhub.auth import api_keys
from retailhub.db import session_scope
from retailhub.errors import Unauthorized


@dataclass(frozen=True)
class Publisher:
    """A tenant calling the publisher API. ``cid`` is its public publisher id, the one its
    tracking links carry."""

    tenant_id: int
    tenant_slug: str

    @property
    def cid(self) -> int:
        return self.tenant_id


def _key(request: Request) -> str | None:
    header = request.headers.get("authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        header = rest.strip()
    return header or None


def _owner(request: Request, kind: str, message: str) -> api_keys.KeyOwner:
    key = _key(request)
    owner = None
    if key is not None:
        with session_scope() as session:
            owner = api_keys.authenticate(session, key, kind=kind)
    if owner is None:
        raise Unauthorized(message)
    return owner


def publisher(request: Request) -> Publisher:
    owner = _owner(request, api_keys.PUBLISHER, "API key is wrong.")
    assert owner.tenant_id is not None and owner.tenant_slug is not None
    return Publisher(tenant_id=owner.tenant_id, tenant_slug=owner.tenant_slug)


def operator(request: Request) -> None:
    _owner(request, api_keys.OPERATOR, "Operator key is wrong.")


PublisherDep = Annotated[Publisher, Depends(publisher)]
OperatorDep = Annotated[None, Depends(operator)]
