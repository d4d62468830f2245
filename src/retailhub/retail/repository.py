"""Every query of the retail read APIs; tenant-scoped, keyset-paged by row id."""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["Customer", "Order", "Product", "RatingSummary", "Review"]

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from retailhub.imports.entities import normalize_email
from retailhub.models import Customer, Order, OrderItem, Product, RatingSummary, Review

M = TypeVar("M", Customer, Order, Product, Review, RatingSummary)


def page(session: Session, stmt: Select[M], model: type[M], *, after: int, limit: int) -> list[M]:
    stmt = stmt.where(model.id > after).order_by(model.id).limit(limit)
    return list(session.scalars(stmt))


def customers(
    session: Session, tenant_id: int, *, email: str | None, customer_number: str | None
) -> Select[Customer]:
    stmt = select(Customer).where(Customer.tenant_id == tenant_id)
    if email:
        stmt = stmt.where(Customer.email == normalize_email(email))
    if customer_number:
        stmt = stmt.where(Customer.customer_number == customer_number)
    return stmt


def customer_by_ref(session: Session, tenant_id: int, ref: str) -> Customer | None:
    """``ref`` is a customerNumber or, failing that, an email."""
    found = session.scalar(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.customer_number == ref)
    )
    if found is None:
        found = session.scalar(
            select(Customer).where(
                Customer.tenant_id == tenant_id, Customer.email == normalize_email(ref)
            )
        )
    return found


def orders(
    session: Session, tenant_id: int, *, email: str | None, customer_number: str | None
) -> Select[Order]:
    stmt = select(Order).where(Order.tenant_id == tenant_id)
    if email:
        stmt = stmt.where(Order.email == normalize_email(email))
    if customer_number:
        stmt = stmt.where(Order.customer_number == customer_number)
    return stmt


def order_by_number(session: Session, tenant_id: int, number: str) -> Order | None:
    return session.scalar(
        select(Order).where(Order.tenant_id == tenant_id, Order.order_number == number)
    )


def items_of(
    session: Session, tenant_id: int, numbers: list[str]
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {n: [] for n in numbers}
    if not numbers:
        return found
    rows = session.execute(
        select(OrderItem.order_number, OrderItem.data)
        .where(OrderItem.tenant_id == tenant_id, OrderItem.order_number.in_(numbers))
        .order_by(OrderItem.order_number, OrderItem.line_no)
    )
    for number, data in rows:
        found[number].append(data)
    return found


def products(
    session: Session,
    tenant_id: int,
    *,
    master_sku: str | None,
    category: str | None,
    brand: str | None,
) -> Select[Product]:
    stmt = select(Product).where(Product.tenant_id == tenant_id)
    if master_sku:
        stmt = stmt.where(Product.master_sku == master_sku)
    if category:
        stmt = stmt.where(Product.category == category)
    if brand:
        stmt = stmt.where(Product.brand == brand)
    return stmt


def product_by_sku(session: Session, tenant_id: int, sku: str) -> Product | None:
    return session.scalar(select(Product).where(Product.tenant_id == tenant_id, Product.sku == sku))


def reviews(
    session: Session, tenant_id: int, *, provider_product_id: str | None, provider: str | None
) -> Select[Review]:
    stmt = select(Review).where(Review.tenant_id == tenant_id)
    if provider_product_id:
        stmt = stmt.where(Review.provider_product_id == provider_product_id)
    if provider:
        stmt = stmt.where(Review.provider == provider)
    return stmt


def rating_summaries(
    session: Session, tenant_id: int, *, provider_product_id: str | None, provider: str | None
) -> Select[RatingSummary]:
    stmt = select(RatingSummary).where(RatingSummary.tenant_id == tenant_id)
    if provider_product_id:
        stmt = stmt.where(RatingSummary.provider_product_id == provider_product_id)
    if provider:
        stmt = stmt.where(RatingSummary.provider == provider)
    return stmt
