"""Read APIs for imported data: the records as imported, in the import schemas' field names.

Collections answer ``{"status": 200, "data": [...], "nextPageCursor": "..."|null}``; pass the
cursor back as ``cursor`` for the next page (``count`` records per page, at most 1,000).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from retailhub.auth.service import TokenInfo
from retailhub.deps import SessionDep, require_scope
from retailhub.errors import NotFound
from retailhub.imports.schemas import ListrakError
from retailhub.retail import repository as repo

router = APIRouter(prefix="/data/v1")

Count = Annotated[int, Query(ge=1, le=1000, description="Records per page.")]
Cursor = Annotated[int, Query(ge=0, description="nextPageCursor of the previous page.")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ListrakError}}


def _collection(rows: list[Any], count: int, data: list[dict[str, Any]]) -> dict[str, Any]:
    more = len(rows) > count
    return {
        "status": 200,
        "data": data[:count],
        "nextPageCursor": str(rows[count - 1].id) if more else None,
    }


@router.get("/Customer", tags=["Customer"], operation_id="Customer_GetCustomerCollection")
def list_customers(
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(require_scope("Customer"))],
    email: str | None = None,
    customerNumber: str | None = None,
    count: Count = 100,
    cursor: Cursor = 0,
) -> dict[str, Any]:
    """Imported customers, filtered by `email` (case-insensitive) or `customerNumber`."""
    stmt = repo.customers(session, token.tenant_id, email=email, customer_number=customerNumber)
    rows = repo.page(session, stmt, repo.Customer, after=cursor, limit=count + 1)
    return _collection(rows, count, [r.data for r in rows])


@router.get(
    "/Customer/{id}", tags=["Customer"], operation_id="Customer_GetCustomer", responses=NOT_FOUND
)
def get_customer(
    id: str,
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(require_scope("Customer"))],
) -> dict[str, Any]:
    """One customer by `customerNumber`, or by email when no customer has that number."""
    found = repo.customer_by_ref(session, token.tenant_id, id)
    if found is None:
        raise NotFound(f"No customer with customerNumber or email '{id}'.")
    return {"status": 200, "data": found.data}


def _with_items(session: SessionDep, tenant_id: int, orders: list[Any]) -> list[dict[str, Any]]:
    items = repo.items_of(session, tenant_id, [o.order_number for o in orders])
    return [{**o.data, "items": items[o.order_number]} for o in orders]


@router.get("/Order", tags=["Order"], operation_id="Order_GetOrderCollection")
def list_orders(
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(require_scope("Order"))],
    email: str | None = None,
    customerNumber: str | None = None,
    count: Count = 100,
    cursor: Cursor = 0,
) -> dict[str, Any]:
    """Imported orders with their items, filtered by `email` or `customerNumber`."""
    stmt = repo.orders(session, token.tenant_id, email=email, customer_number=customerNumber)
    rows = repo.page(session, stmt, repo.Order, after=cursor, limit=count + 1)
    return _collection(rows, count, _with_items(session, token.tenant_id, rows[:count]))


@router.get(
    "/Order/{orderNumber}", tags=["Order"], operation_id="Order_GetOrder", responses=NOT_FOUND
)
def get_order(
    orderNumber: str,
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(require_scope("Order"))],
) -> dict[str, Any]:
    """One order with its items (items imported with the order or from an item file)."""
    found = repo.order_by_number(session, token.tenant_id, orderNumber)
    if found is None:
        raise NotFound(f"No order with orderNumber '{orderNumber}'.")
    return {"status": 200, "data": _with_items(session, token.tenant_id, [found])[0]}


@router.get("/Product", tags=["Product"], operation_id="Product_GetProductCollection")
def list_products(
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(require_scope("Product"))],
    masterSku: str | None = None,
    category: str | None = None,
    brand: str | None = None,
    count: Count = 100,
    cursor: Cursor = 0,
) -> dict[str, Any]:
    """Imported products, filtered by `masterSku`, `category` and `brand` (exact match)."""
    stmt = repo.products(
        session, token.tenant_id, master_sku=masterSku, category=category, brand=brand
    )
    rows = repo.page(session, stmt, repo.Product, after=cursor, limit=count + 1)
    return _collection(rows, count, [r.data for r in rows])


@router.get(
    "/Product/{sku}", tags=["Product"], operation_id="Product_GetProduct", responses=NOT_FOUND
)
def get_product(
    sku: str,
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(require_scope("Product"))],
) -> dict[str, Any]:
    """One product by `sku`."""
    found = repo.product_by_sku(session, token.tenant_id, sku)
    if found is None:
        raise NotFound(f"No product with sku '{sku}'.")
    return {"status": 200, "data": found.data}


@router.get("/Review", tags=["Review"], operation_id="Review_GetReviewCollection")
def list_reviews(
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(require_scope("Review"))],
    providerProductID: str | None = None,
    provider: str | None = None,
    count: Count = 100,
    cursor: Cursor = 0,
) -> dict[str, Any]:
    """Imported reviews with their ratings, by product (`providerProductID`)."""
    stmt = repo.reviews(
        session, token.tenant_id, provider_product_id=providerProductID, provider=provider
    )
    rows = repo.page(session, stmt, repo.Review, after=cursor, limit=count + 1)
    return _collection(rows, count, [r.data for r in rows])


@router.get(
    "/RatingSummary",
    tags=["RatingSummary"],
    operation_id="RatingSummary_GetRatingSummaryCollection",
)
def list_rating_summaries(
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(require_scope("Review"))],
    providerProductID: str | None = None,
    provider: str | None = None,
    count: Count = 100,
    cursor: Cursor = 0,
) -> dict[str, Any]:
    """Imported rating summaries (one entry per `providerRatingSummaryID`), by product."""
    stmt = repo.rating_summaries(
        session, token.tenant_id, provider_product_id=providerProductID, provider=provider
    )
    rows = repo.page(session, stmt, repo.RatingSummary, after=cursor, limit=count + 1)
    return _collection(rows, count, [r.data for r in rows])
