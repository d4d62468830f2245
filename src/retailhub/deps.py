"""FastAPI dependency aliases shared by every API family."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from retailhub.auth.service import TokenInfo, decode_token
from retailhub.db import session_scope
from retailhub.errors import Forbidden, Unauthorized


def get_session() -> Iterator[Session]:
    """One unit of work per request."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_write_session() -> Iterator[Session]:
    """A unit of work that will write: on SQLite it holds the write lock from its start
    (``BEGIN IMMEDIATE``), so a read-then-write never fails half-way; on PostgreSQL it is
    an ordinary transaction."""
    with session_scope(write=True) as session:
        yield session


WriteSessionDep = Annotated[Session, Depends(get_write_session)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def data_token(request: Request) -> TokenInfo:
    token = _bearer(request)
    info = decode_token(token, audience="data") if token else None
    if info is None:
        raise Unauthorized("Authorization was denied for this request.")
    return info


def require_scope(*scopes: str) -> Callable[..., TokenInfo]:
    """A data token holding at least one of ``scopes``."""

    def dependency(info: Annotated[TokenInfo, Depends(data_token)]) -> TokenInfo:
        if not info.scopes.intersection(scopes):
            wanted = "' or '".join(scopes)
            raise Forbidden(
                f"Authorization was denied for this request: the token lacks the '{wanted}' scope."
            )
        return info

    return dependency
