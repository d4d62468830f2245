"""The operator's catalog API (``/admin/api``): stores, logos, categories, deals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from retailhub.cashback.auth import OperatorDep
from retailhub.cashback.catalog import repository, service, views
from retailhub.cashback.catalog.endpoints import base_url
from retailhub.cashback.catalog.schemas import CategoryIn, DealIn, StoreIn
from retailhub.cashback.pages import PageDep, page_body
from retailhub.db import session_scope
from retailhub.deps import SessionDep
from retailhub.errors import NotFound

router = APIRouter(tags=["Operator: catalog"])


def _links(request: Request) -> views.Links:
    return views.Links(base=base_url(request), cid=None)


def _store(request: Request, store_id: int) -> dict[str, Any]:
    with session_scope() as session:
        row = repository.get_store(session, store_id, active_only=False)
    if row is None:
        raise NotFound(f"Store {store_id} was not found.")
    return views.admin_store(row, _links(request))


@router.get("/admin/api/stores", operation_id="adminListStores")
def list_stores(_op: OperatorDep, request: Request, page: PageDep, session: SessionDep) -> Any:
    """Every store, removed ones included, by id."""
    rows, total = repository.list_stores(session, page)
    content = [views.admin_store(row, _links(request)) for row in rows]
    return page_body(content, page, total, sorted_=False)


@router.post("/admin/api/stores", status_code=201, operation_id="adminCreateStore")
def create_store(_op: OperatorDep, request: Request, body: StoreIn) -> Any:
    """A new store; ``id`` is generated unless given (409 when taken)."""
    with session_scope(write=True) as session:
        store_id = service.create_store(session, body)
    return _store(request, store_id)


@router.get("/admin/api/stores/{store_id}", operation_id="adminGetStore")
def get_store(_op: OperatorDep, request: Request, store_id: int) -> Any:
    return _store(request, store_id)


@router.put("/admin/api/stores/{store_id}", operation_id="adminPutStore")
def put_store(
    _op: OperatorDep, request: Request, response: Response, store_id: int, body: StoreIn
) -> Any:
    """Create or replace the whole store (201 when created). A removed store written again
    is active unless the body says ``"active": false``."""
    with session_scope(write=True) as session:
        created = service.replace_store(session, store_id, body)
    response.status_code = 201 if created else 200
    return _store(request, store_id)


@router.patch("/admin/api/stores/{store_id}", operation_id="adminPatchStore")
def patch_store(
    _op: OperatorDep,
    request: Request,
    store_id: int,
    body: Annotated[dict[str, Any], Body()],
) -> Any:
    """Replace the given top-level fields (lists and objects whole)."""
    with session_scope(write=True) as session:
        service.patch_store(session, store_id, body)
    return _store(request, store_id)


@router.delete("/admin/api/stores/{store_id}", status_code=204, operation_id="adminRemoveStore")
def remove_store(_op: OperatorDep, store_id: int) -> Response:
    """Remove the store from publishers' view (kept for its clicks and transactions)."""
    with session_scope(write=True) as session:
        service.remove_store(session, store_id)
    return Response(status_code=204)


@router.put(
    "/admin/api/stores/{store_id}/logo",
    status_code=204,
    operation_id="adminPutStoreLogo",
    openapi_extra={"requestBody": {"content": {t: {} for t in ("image/png", "image/jpeg")}}},
)
async def put_logo(_op: OperatorDep, request: Request, store_id: int) -> Response:
    """The logo as the raw body (PNG, JPEG, GIF, WebP or SVG; at most 1 MiB)."""
    data = await request.body()
    content_type = request.headers.get("content-type", "")
    with session_scope(write=True) as session:
        digest = service.put_logo(session, store_id, content_type, data)
    return Response(status_code=204, headers={"ETag": f'"{digest}"'})


@router.delete(
    "/admin/api/stores/{store_id}/logo", status_code=204, operation_id="adminDeleteStoreLogo"
)
def delete_logo(_op: OperatorDep, store_id: int) -> Response:
    with session_scope(write=True) as session:
        service.delete_logo(session, store_id)
    return Response(status_code=204)


def _category(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "seoFriendlyId": row.seo_friendly_id}


@router.get("/admin/api/categories", operation_id="adminListCategories")
def list_categories(_op: OperatorDep, session: SessionDep) -> Any:
    """Every category, by name."""
    return [{"id": row["id"]} | views.category(row) for row in repository.list_categories(session)]


@router.post("/admin/api/categories", status_code=201, operation_id="adminCreateCategory")
def create_category(_op: OperatorDep, body: CategoryIn) -> Any:
    """A new category; ``seoFriendlyId`` defaults to the name's slug."""
    with session_scope(write=True) as session:
        return _category(service.create_category(session, body))


@router.put("/admin/api/categories/{category_id}", operation_id="adminPutCategory")
def put_category(_op: OperatorDep, category_id: int, body: CategoryIn) -> Any:
    with session_scope(write=True) as session:
        return _category(service.update_category(session, category_id, body))


@router.delete(
    "/admin/api/categories/{category_id}", status_code=204, operation_id="adminDeleteCategory"
)
def delete_category(_op: OperatorDep, category_id: int) -> Response:
    """Delete the category (its stores stay, without it)."""
    with session_scope(write=True) as session:
        service.delete_category(session, category_id)
    return Response(status_code=204)


def _deal(request: Request, deal_id: int) -> dict[str, Any]:
    with session_scope() as session:
        row = repository.find_deal(session, deal_id, active_only=False)
    if row is None:
        raise NotFound(f"Deal {deal_id} was not found.")
    return views.deal(row, _links(request))


@router.get("/admin/api/deals", operation_id="adminListDeals")
def list_deals(_op: OperatorDep, request: Request, page: PageDep, session: SessionDep) -> Any:
    """Every deal, removed stores' included, by id."""
    rows, total = repository.find_deals(session, repository.DealFilter(), page, active_only=False)
    return page_body([views.deal(r, _links(request)) for r in rows], page, total, sorted_=False)


@router.post("/admin/api/deals", status_code=201, operation_id="adminCreateDeal")
def create_deal(_op: OperatorDep, request: Request, body: DealIn) -> Any:
    with session_scope(write=True) as session:
        deal_id = service.create_deal(session, body).id
    return _deal(request, deal_id)


@router.get("/admin/api/deals/{deal_id}", operation_id="adminGetDeal")
def get_deal(_op: OperatorDep, request: Request, deal_id: int) -> Any:
    return _deal(request, deal_id)


@router.put("/admin/api/deals/{deal_id}", operation_id="adminPutDeal")
def put_deal(_op: OperatorDep, request: Request, deal_id: int, body: DealIn) -> Any:
    """Replace the deal."""
    with session_scope(write=True) as session:
        service.update_deal(session, deal_id, body)
    return _deal(request, deal_id)


@router.delete("/admin/api/deals/{deal_id}", status_code=204, operation_id="adminDeleteDeal")
def delete_deal(_op: OperatorDep, deal_id: int) -> Response:
    with session_scope(write=True) as session:
        service.delete_deal(session, deal_id)
    return Response(status_code=204)
