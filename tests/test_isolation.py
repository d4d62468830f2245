"""Tenant A's token never sees or changes tenant B's data."""

from __future__ import annotations

from tests.conftest import Tenant


def test_tenants_are_isolated(tenant: Tenant, other_tenant: Tenant) -> None:
    a = tenant.run("Product", [{"sku": "SAME", "title": "A's"}])
    b = other_tenant.run("Product", [{"sku": "SAME", "title": "B's"}])
    # The same key in two tenants is two rows; neither import saw the other's row.
    assert a["counts"]["inserted"] == 1
    assert b["counts"]["inserted"] == 1
    assert tenant.get("/data/v1/Product/SAME").json()["data"]["title"] == "A's"
    assert other_tenant.get("/data/v1/Product/SAME").json()["data"]["title"] == "B's"
    assert [p["title"] for p in tenant.get("/data/v1/Product").json()["data"]] == ["A's"]
    # B cannot read A's import, its errors, or find it in its list.
    assert other_tenant.get(f"/data/v1/Import/{a['resourceId']}").status_code == 404
    assert other_tenant.get(f"/data/v1/Import/{a['resourceId']}/errors").status_code == 404
    listed = [i["resourceId"] for i in other_tenant.get("/data/v1/Import").json()["data"]]
    assert listed == [b["resourceId"]]


def test_orders_customers_reviews_isolated(tenant: Tenant, other_tenant: Tenant) -> None:
    tenant.run("Order", [{"orderNumber": "O1", "items": [{"orderNumber": "O1", "sku": "A"}]}])
    tenant.run("Customer", [{"email": "a@example.com", "customerNumber": "C1"}])
    tenant.run(
        "Review",
        [
            {
                "provider": "Y",
                "providerReviewID": "R",
                "providerProductID": "P",
                "title": "t",
                "featured": True,
                "recommended": True,
            }
        ],
    )
    other_tenant.run("Order", [{"orderNumber": "O1", "items": [{"orderNumber": "O1", "sku": "B"}]}])
    assert [i["sku"] for i in tenant.get("/data/v1/Order/O1").json()["data"]["items"]] == ["A"]
    assert [i["sku"] for i in other_tenant.get("/data/v1/Order/O1").json()["data"]["items"]] == [
        "B"
    ]
    assert other_tenant.get("/data/v1/Customer/C1").status_code == 404
    assert other_tenant.get("/data/v1/Customer", email="a@example.com").json()["data"] == []
    assert other_tenant.get("/data/v1/Review", providerProductID="P").json()["data"] == []
