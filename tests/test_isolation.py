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


def test_rating_summaries_and_customer_filters_isolated(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    summary = {
        "provider": "Y",
        "providerProductID": "P",
        "ratingSummaries": [{"providerRatingSummaryID": "overall", "rating": 4.5}],
    }
    tenant.run("RatingSummary", [summary])
    tenant.run("Customer", [{"email": "n@example.com", "customerNumber": "N1"}])
    other = other_tenant.run("RatingSummary", [summary])
    # The same key in the other tenant is a new row there, not an update of ours.
    assert other["counts"]["inserted"] == 1
    assert len(tenant.get("/data/v1/RatingSummary", providerProductID="P").json()["data"]) == 1
    assert other_tenant.get("/data/v1/Customer", customerNumber="N1").json()["data"] == []
    listed = tenant.get("/data/v1/Customer", customerNumber="N1").json()["data"]
    assert [c["email"] for c in listed] == ["n@example.com"]
