"""POST /data/v1/Order: orders with nested items, item replacement, status enums."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant


def order(number: str, *skus: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"orderNumber": number, **fields}
    if skus:
        record["items"] = [
            {"orderNumber": number, "sku": sku, "quantity": 1, "price": 10.0} for sku in skus
        ]
    return record


class TestOrders:
    def test_order_with_items_round_trips(self, tenant: Tenant) -> None:
        record = order(
            "O-1",
            "A",
            "B",
            email="Ben@Example.com",
            customerNumber="C1",
            dateEntered="2024-03-01T12:00:00-05:00",
            orderTotal=20.0,
            status="Completed",
            storeNumber="S9",
            couponCode="SAVE10",
            billingAddress={"firstName": "Ben", "address1": "22 S. 3rd St.", "mobilePhone": "1"},
            shippingAddress={"firstName": "Ben", "city": "Philadelphia"},
            merchandiseDiscountType="Coupon",
            shipDate="2024-03-02T09:00:00",
        )
        result = tenant.run("Order", [record])
        assert result["status"] == "succeeded"
        stored = tenant.get("/data/v1/Order/O-1").json()["data"]
        assert [i["sku"] for i in stored["items"]] == ["A", "B"]
        assert stored["dateEntered"] == "2024-03-01T17:00:00Z"
        assert stored["shipDate"] == "2024-03-02T14:00:00Z"  # zoneless: US Eastern
        assert stored["email"] == "Ben@Example.com"
        by_email = tenant.get("/data/v1/Order", email="ben@example.com").json()["data"]
        assert [o["orderNumber"] for o in by_email] == ["O-1"]
        by_customer = tenant.get("/data/v1/Order", customerNumber="C1").json()["data"]
        assert [o["orderNumber"] for o in by_customer] == ["O-1"]

    def test_items_replace_the_set(self, tenant: Tenant) -> None:
        tenant.run("Order", [order("O-2", "A", "B", "C")])
        result = tenant.run("Order", [order("O-2", "D")])
        assert result["counts"]["updated"] == 1
        items = tenant.get("/data/v1/Order/O-2").json()["data"]["items"]
        assert [i["sku"] for i in items] == ["D"]

    def test_order_without_items_keeps_its_items(self, tenant: Tenant) -> None:
        tenant.run("Order", [order("O-3", "A", "B")])
        result = tenant.run("Order", [order("O-3", status="Shipped")])
        assert result["counts"]["updated"] == 1
        stored = tenant.get("/data/v1/Order/O-3").json()["data"]
        assert stored["status"] == "Shipped"
        assert [i["sku"] for i in stored["items"]] == ["A", "B"]

    def test_reimport_is_unchanged(self, tenant: Tenant) -> None:
        records = [order(f"R-{i}", "A", "B", orderTotal=float(i)) for i in range(5)]
        tenant.run("Order", records)
        again = tenant.run("Order", records)
        assert again["counts"]["unchanged"] == 5
        assert len(tenant.get("/data/v1/Order/R-3").json()["data"]["items"]) == 2

    def test_status_names_are_case_insensitive_and_codes_accepted(self, tenant: Tenant) -> None:
        tenant.run("Order", [order("S-1", status="shipped"), order("S-2", status=9)])
        assert tenant.get("/data/v1/Order/S-1").json()["data"]["status"] == "Shipped"
        assert tenant.get("/data/v1/Order/S-2").json()["data"]["status"] == "Returned"


REJECTED = [
    ({"email": "x@y.z"}, "orderNumber", "required"),
    ({"orderNumber": "o" * 51}, "orderNumber", "maxLength"),
    ({"orderNumber": "N", "status": "placed"}, "status", "enum"),
    ({"orderNumber": "N", "merchandiseDiscountType": "BOGO"}, "merchandiseDiscountType", "enum"),
    ({"orderNumber": "N", "couponCode": "c" * 33}, "couponCode", "maxLength"),
    ({"orderNumber": "N", "source": "s" * 26}, "source", "maxLength"),
    ({"orderNumber": "N", "orderTotal": "lots"}, "orderTotal", "type"),
    (
        {"orderNumber": "N", "items": [{"orderNumber": "N", "sku": "A"}, {"orderNumber": "N"}]},
        "items[1].sku",
        "required",
    ),
    ({"orderNumber": "N", "items": [{"sku": "A"}]}, "items[0].orderNumber", "required"),
    (
        {"orderNumber": "N", "items": [{"orderNumber": "N", "sku": "A", "status": "Lost"}]},
        "items[0].status",
        "enum",
    ),
    (
        {"orderNumber": "N", "items": [{"orderNumber": "N", "sku": "A", "quantity": 1.5}]},
        "items[0].quantity",
        "type",
    ),
    (
        {"orderNumber": "N", "shippingAddress": {"firstName": "f" * 51}},
        "shippingAddress.firstName",
        "maxLength",
    ),
    ({"orderNumber": "N", "customer": {"email": "e" * 101}}, "customer.email", "maxLength"),
]


@pytest.mark.parametrize(("record", "field", "rule"), REJECTED)
def test_rejected(tenant: Tenant, record: dict[str, Any], field: str, rule: str) -> None:
    result = tenant.run("Order", [order("GOOD", "A"), record])
    assert result["counts"]["inserted"] == 1
    assert result["counts"]["rejected"] == 1
    errors = tenant.errors(result["resourceId"], severity="error")
    assert [(e["index"], e["field"], e["rule"]) for e in errors] == [(1, field, rule)]
    assert tenant.get("/data/v1/Order/N").status_code == 404
