"""Per-entity import specs: scope, natural key, and the typed columns a record fills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from retailhub.imports.issues import Issue

Row = dict[str, Any]


def _money(value: Any) -> Decimal | None:
    # repr() of a float is its shortest round-trip form: 5.1 -> Decimal("5.1"), not 5.0999…
    return None if value is None else Decimal(repr(value))


def _dt(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


@dataclass(frozen=True)
class EntitySpec:
    name: str  # Listrak resource name: Product, Order, ...
    scope: str  # OAuth scope the REST operation needs
    table: str
    key_columns: tuple[str, ...]
    # Natural key of a valid record, or an Issue when the record cannot be keyed.
    key: Callable[[Row], tuple[Any, ...] | Issue]
    # Typed columns (besides tenant_id, key columns, data, content_hash) filled from a
    # record: their names, and a function giving their values in that order.
    column_names: tuple[str, ...]
    columns: Callable[[Row], tuple[Any, ...]]
    describe: str  # how the key is named in messages


def _key_of(r: Row, *fields: str) -> tuple[Any, ...] | Issue:
    """A record's key fields, which must not be blank: a blank key would match nothing
    meaningful and every other blank-keyed record."""
    for name in fields:
        if not str(r.get(name) or "").strip():
            return Issue(
                "error", name, "required", f"{name} is the record's key and must not be blank."
            )
    return tuple(r[name] for name in fields)


def _product_key(r: Row) -> tuple[Any, ...] | Issue:
    return _key_of(r, "sku")


def _order_key(r: Row) -> tuple[Any, ...] | Issue:
    return _key_of(r, "orderNumber")


def _order_item_key(r: Row) -> tuple[Any, ...] | Issue:
    return _key_of(r, "orderNumber", "sku")


def _review_key(r: Row) -> tuple[Any, ...] | Issue:
    return _key_of(r, "provider", "providerReviewID")


def normalize_email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip().lower()
    return email or None


def _customer_key(r: Row) -> tuple[Any, ...] | Issue:
    number = (r.get("customerNumber") or "").strip() or None
    email = normalize_email(r.get("email"))
    if number is None and email is None:
        return Issue(
            "error",
            "email",
            "required",
            "A customer needs an email or a customerNumber to be matched on.",
        )
    return (number, email)


def _rating_summary_key(r: Row) -> tuple[Any, ...] | Issue:
    key = _key_of(r, "provider", "providerProductID")
    if not isinstance(key, Issue) and not r.get("ratingSummaries"):
        return Issue(
            "error",
            "ratingSummaries",
            "required",
            "A rating summary record needs at least one entry in ratingSummaries; "
            "nothing was imported from it.",
        )
    return key


SPECS: dict[str, EntitySpec] = {
    "Product": EntitySpec(
        name="Product",
        scope="Product",
        table="products",
        key_columns=("sku",),
        key=_product_key,
        describe="sku",
        column_names=("master_sku", "title", "brand", "category", "price"),
        columns=lambda r: (
            r.get("masterSku"),
            r.get("title"),
            r.get("brand"),
            r.get("category"),
            _money(r.get("price")),
        ),
    ),
    "Order": EntitySpec(
        name="Order",
        scope="Order",
        table="orders",
        key_columns=("order_number",),
        key=_order_key,
        describe="orderNumber",
        column_names=(
            "customer_number",
            "email",
            "date_entered",
            "order_total",
            "status",
            "store_number",
            "coupon_code",
        ),
        columns=lambda r: (
            r.get("customerNumber"),
            normalize_email(r.get("email")),
            _dt(r.get("dateEntered")),
            _money(r.get("orderTotal")),
            r.get("status"),
            r.get("storeNumber"),
            r.get("couponCode"),
        ),
    ),
    # Items imported on their own (an order item file), keyed by order number and sku; an
    # order imported later finds them by its number.
    "OrderItem": EntitySpec(
        name="OrderItem",
        scope="Order",
        table="order_items",
        key_columns=("order_number", "sku"),
        key=_order_item_key,
        describe="orderNumber/sku",
        column_names=("quantity", "price"),
        columns=lambda r: (r.get("quantity"), _money(r.get("price"))),
    ),
    "Customer": EntitySpec(
        name="Customer",
        scope="Customer",
        table="customers",
        key_columns=("customer_number", "email"),
        key=_customer_key,
        describe="customerNumber/email",
        column_names=("first_name", "last_name", "birthday"),
        columns=lambda r: (r.get("firstName"), r.get("lastName"), _dt(r.get("birthday"))),
    ),
    "Review": EntitySpec(
        name="Review",
        scope="Review",
        table="reviews",
        key_columns=("provider", "provider_review_id"),
        key=_review_key,
        describe="provider/providerReviewID",
        column_names=("provider_product_id",),
        columns=lambda r: (r["providerProductID"],),
    ),
    "RatingSummary": EntitySpec(
        name="RatingSummary",
        scope="Review",
        table="rating_summaries",
        key_columns=("provider", "provider_product_id"),
        key=_rating_summary_key,
        describe="provider/providerProductID",
        column_names=(),
        columns=lambda r: (),
    ),
}
