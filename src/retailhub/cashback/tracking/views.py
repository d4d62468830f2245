"""JSON shapes of clicks, transactions, SKU lines, changes and networks.

Money the document shows as JSON numbers (``saleAmount``, ``shopperCommission``) stays a
``Decimal`` here and is written as an exact JSON number by :class:`ExactJSONResponse`
(a float would turn 0.1 + 0.2 into 0.30000000000000004 somewhere along the way).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse

from retailhub.kit.timeutil import iso
from retailhub.models import (
    CashbackClick,
    CashbackNetwork,
    CashbackSkuDetail,
    CashbackTransaction,
    CashbackTransactionChange,
)

CENTS = Decimal("0.01")


def money_text(value: Decimal) -> str:
    """At least two decimals, no trailing zeros beyond them: 18.4900 → "18.49",
    1000 → "1000.00", 0.4625 → "0.4625"."""
    normalized = value.normalize()
    if normalized.as_tuple().exponent >= -2:  # type: ignore[operator]
        normalized = value.quantize(CENTS)
    return format(normalized, "f")


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class ExactJSONResponse(JSONResponse):
    """JSON whose ``Decimal`` values are written as exact numbers."""

    def render(self, content: Any) -> bytes:
        return _encode(content).encode()


def click(row: CashbackClick, store_name: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "clickDate": iso(row.click_date),
        "storeName": store_name,
        "storeId": row.store_id,
        "shopperId": row.shopper_id,
        "sid": row.sid,
        "transactionId": str(row.transaction_id) if row.transaction_id is not None else None,
    }


def transaction(row: CashbackTransaction, store_name: str | None) -> dict[str, Any]:
    """The document's transaction."""
    return {
        "id": row.id,
        "sid": row.sid,
        "shopperId": row.shopper_id,
        "storeId": row.store_id,
        "storeName": store_name,
        "orderNumber": row.order_number,
        "status": row.status,
        "currency": row.currency,
        "saleAmount": row.sale_amount,
        "shopperCommission": row.shopper_commission,
        "tier": row.tier,
        "purchaseDate": iso(row.purchase_date),
        "pendingDate": iso(row.pending_date),
        "availabilityDate": iso(row.availability_date),
        "paymentDate": iso(row.payment_date),
        "adminComment": row.admin_comment,
        "lastUpdate": iso(row.updated_at),
        "isSkuDetailsBrand": row.is_sku_details_brand,
    }


def admin_transaction(row: CashbackTransaction, store_name: str | None) -> dict[str, Any]:
    """The document's transaction plus what only the operator sees."""
    return {
        **transaction(row, store_name),
        "tenantId": row.tenant_id,
        "clickId": row.click_id,
        "networkId": row.network_id,
        "commissionAmount": row.commission_amount,
        "share": str(row.share),
        "walletPoints": row.wallet_points,
        "createdAt": iso(row.created_at),
    }


def sku_detail(
    row: CashbackSkuDetail, parent: CashbackTransaction, store_name: str | None
) -> dict[str, Any]:
    return {
        "transactionId": row.transaction_id,
        "sku": row.sku,
        "itemName": row.item_name,
        "category": row.category,
        "quantity": row.quantity,
        "price": money_text(row.price),
        "shopperId": parent.shopper_id,
        "orderNumber": parent.order_number,
        "purchaseDate": iso(parent.purchase_date),
        "storeName": store_name,
    }


def change(row: CashbackTransactionChange) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return money_text(value) if value is not None else None

    return {
        "id": row.id,
        "transactionId": row.transaction_id,
        "changedAt": iso(row.changed_at),
        "actor": row.actor,
        "oldStatus": row.old_status,
        "newStatus": row.new_status,
        "oldSaleAmount": text(row.old_sale_amount),
        "newSaleAmount": text(row.new_sale_amount),
        "oldShopperCommission": text(row.old_shopper_commission),
        "newShopperCommission": text(row.new_shopper_commission),
        "adminComment": row.admin_comment,
    }


def network(row: CashbackNetwork, *, secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "active": row.active,
        "createdAt": iso(row.created_at),
    }
    if secret:
        body["secret"] = row.secret
    return body
