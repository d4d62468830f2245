"""POST /data/v1/Product: validation per the Swagger file, upserts, the report."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant

# The body the real Listrak service accepted (recorded traffic).
LISTRAK_PRODUCT = {
    "inStock": True,
    "isPurchasable": True,
    "isViewable": True,
    "linkUrl": "http://www.example.com/products/test-product",
    "masterSku": "4C432DBA9B",
    "onSale": False,
    "price": 5.0,
    "qoh": 5,
    "salePrice": 0.0,
    "sku": "SKU",
    "title": "Test Product",
}


class TestAccepted:
    def test_listrak_recorded_body(self, tenant: Tenant) -> None:
        response = tenant.post("Product", [LISTRAK_PRODUCT])
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == 201
        assert len(body["resourceId"]) == 32
        result = tenant.wait(body["resourceId"])
        assert result["status"] == "succeeded"
        assert result["entity"] == "Product"
        assert result["source"] == "api"
        assert result["counts"] == {
            "received": 1,
            "processed": 1,
            "inserted": 1,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
            "duplicates": 0,
            "warnings": 0,
        }
        stored = tenant.get("/data/v1/Product/SKU").json()["data"]
        assert stored == LISTRAK_PRODUCT

    def test_every_field_round_trips(self, tenant: Tenant) -> None:
        full: dict[str, Any] = {
            **LISTRAK_PRODUCT,
            "sku": "FULL-1",
            "alternateImagesType1": [{"rank": 1, "url": "https://img/1.jpg"}],
            "alternateImagesType2": [],
            "alternateImagesType3": None,
            "brand": "Style Co.",
            "category": "Swimwear",
            "color": "red",
            "description": "d" * 4000,
            "discontinued": False,
            "gender": "F",
            "imageUrl": "https://img/main.jpg",
            "isClearance": True,
            "isOutlet": False,
            "meta1": "m" * 500,
            "meta5": "x",
            "msrp": 30.5,
            "relatedProducts": [{"rank": 1, "sku": "B", "type": "crossSell"}],
            "reviewProductID": "R1",
            "reviewURL": "https://r/1",
            "saleEndDate": "2024-06-30T23:59:59Z",
            "saleStartDate": "2024-06-01T00:00:00Z",
            "size": "M",
            "style": "casual",
            "subCategory": "Tops",
            "title": "t" * 500,
            "unitCost": 2.25,
            "tags": "a,b",
        }
        result = tenant.run("Product", [full])
        assert result["status"] == "succeeded"
        stored = tenant.get("/data/v1/Product/FULL-1").json()["data"]
        assert stored == full

    def test_zoneless_timestamps_are_eastern_and_stored_utc(self, tenant: Tenant) -> None:
        tenant.run("Product", [{"sku": "TZ", "saleStartDate": "2024-01-15T10:00:00"}])
        stored = tenant.get("/data/v1/Product/TZ").json()["data"]
        assert stored["saleStartDate"] == "2024-01-15T15:00:00Z"

    def test_lenient_scalars_like_listrak(self, tenant: Tenant) -> None:
        result = tenant.run("Product", [{"sku": 12345, "qoh": "7", "inStock": "true"}])
        assert result["status"] == "succeeded"
        stored = tenant.get("/data/v1/Product/12345").json()["data"]
        assert stored == {"sku": "12345", "qoh": 7, "inStock": True}

    def test_empty_array_is_an_empty_import(self, tenant: Tenant) -> None:
        result = tenant.run("Product", [])
        assert result["status"] == "succeeded"
        assert result["counts"]["received"] == 0


# (record, field path, rule) — one rejected case per rule of the Swagger file.
REJECTED = [
    ({"title": "no sku"}, "sku", "required"),
    ({"sku": None}, "sku", "required"),
    ({"sku": "x" * 101}, "sku", "maxLength"),
    ({"sku": "A", "title": "t" * 501}, "title", "maxLength"),
    ({"sku": "A", "description": "d" * 4001}, "description", "maxLength"),
    ({"sku": "A", "brand": "b" * 51}, "brand", "maxLength"),
    ({"sku": "A", "imageUrl": "h" * 501}, "imageUrl", "maxLength"),
    ({"sku": "A", "meta3": "m" * 501}, "meta3", "maxLength"),
    ({"sku": "A", "qoh": "many"}, "qoh", "type"),
    ({"sku": "A", "qoh": 2**31}, "qoh", "range"),
    ({"sku": "A", "price": "cheap"}, "price", "type"),
    ({"sku": "A", "inStock": "maybe"}, "inStock", "type"),
    ({"sku": "A", "saleStartDate": "next tuesday"}, "saleStartDate", "format"),
    (
        {"sku": "A", "relatedProducts": [{"sku": "B", "rank": "first"}]},
        "relatedProducts[0].rank",
        "type",
    ),
    ({"sku": "A", "alternateImagesType2": "not-a-list"}, "alternateImagesType2", "type"),
    ("not an object", "(record)", "type"),
]


class TestRejected:
    @pytest.mark.parametrize(("record", "field", "rule"), REJECTED)
    def test_rule(self, tenant: Tenant, record: Any, field: str, rule: str) -> None:
        result = tenant.run("Product", [{"sku": "GOOD-1"}, record, {"sku": "GOOD-2"}])
        assert result["status"] == "partially_failed"
        assert result["counts"]["inserted"] == 2
        assert result["counts"]["rejected"] == 1
        errors = tenant.errors(result["resourceId"], severity="error")
        assert [(e["index"], e["field"], e["rule"]) for e in errors] == [(1, field, rule)]
        assert errors[0]["message"]
        assert tenant.get("/data/v1/Product/GOOD-1").status_code == 200
        assert tenant.get("/data/v1/Product/GOOD-2").status_code == 200

    def test_offending_value_is_reported_truncated(self, tenant: Tenant) -> None:
        result = tenant.run("Product", [{"sku": "A", "title": "t" * 501}])
        assert result["status"] == "failed"
        (error,) = tenant.errors(result["resourceId"])
        assert error["value"] == "t" * 200 + "…"
        assert error["message"] == "String should have at most 500 characters"

    def test_several_errors_of_one_record_are_all_listed(self, tenant: Tenant) -> None:
        result = tenant.run("Product", [{"title": "t" * 501, "qoh": "x"}])
        errors = tenant.errors(result["resourceId"])
        assert sorted((e["field"], e["rule"]) for e in errors) == [
            ("qoh", "type"),
            ("sku", "required"),
            ("title", "maxLength"),
        ]
        assert result["counts"]["rejected"] == 1


class TestUpsert:
    def test_same_data_again_is_unchanged(self, tenant: Tenant) -> None:
        records = [{"sku": f"U{i}", "title": f"T{i}", "price": i + 0.99} for i in range(10)]
        first = tenant.run("Product", records)
        assert first["counts"]["inserted"] == 10
        again = tenant.run("Product", records)
        assert again["status"] == "succeeded"
        assert again["counts"] == {
            "received": 10,
            "processed": 10,
            "inserted": 0,
            "updated": 0,
            "unchanged": 10,
            "rejected": 0,
            "duplicates": 0,
            "warnings": 0,
        }

    def test_changed_record_is_updated_whole(self, tenant: Tenant) -> None:
        tenant.run("Product", [{"sku": "C1", "title": "Old", "brand": "B"}, {"sku": "C2"}])
        result = tenant.run("Product", [{"sku": "C1", "title": "New"}, {"sku": "C2"}])
        assert result["counts"]["updated"] == 1
        assert result["counts"]["unchanged"] == 1
        assert tenant.get("/data/v1/Product/C1").json()["data"] == {"sku": "C1", "title": "New"}

    def test_duplicate_keys_last_wins_earlier_reported(self, tenant: Tenant) -> None:
        result = tenant.run(
            "Product",
            [{"sku": "D", "title": "first"}, {"sku": "E"}, {"sku": "D", "title": "last"}],
        )
        assert result["status"] == "succeeded"
        counts = result["counts"]
        assert (counts["inserted"], counts["updated"]) == (2, 1)
        assert (counts["duplicates"], counts["warnings"]) == (1, 1)
        (warning,) = tenant.errors(result["resourceId"], severity="warning")
        assert (warning["index"], warning["rule"], warning["field"]) == (0, "duplicate", "sku")
        assert "index 2" in warning["message"]
        assert tenant.get("/data/v1/Product/D").json()["data"]["title"] == "last"

    def test_duplicates_across_batches(self, tenant: Tenant) -> None:
        from retailhub.config import get_settings

        settings = get_settings()
        old = settings.import_batch_size
        settings.import_batch_size = 3
        try:
            records = [{"sku": f"X{i}"} for i in range(7)] + [{"sku": "X1", "title": "late"}]
            result = tenant.run("Product", records)
        finally:
            settings.import_batch_size = old
        assert (result["counts"]["inserted"], result["counts"]["updated"]) == (7, 1)
        assert result["counts"]["duplicates"] == 1
        assert tenant.get("/data/v1/Product/X1").json()["data"]["title"] == "late"
        total = result["counts"]
        assert total["received"] == sum(
            total[k] for k in ("inserted", "updated", "unchanged", "rejected")
        )

    def test_last_duplicate_invalid_keeps_the_earlier(self, tenant: Tenant) -> None:
        result = tenant.run("Product", [{"sku": "L", "title": "ok"}, {"sku": "L", "qoh": "x"}])
        assert (result["counts"]["inserted"], result["counts"]["rejected"]) == (1, 1)
        assert result["counts"]["duplicates"] == 0
        assert tenant.get("/data/v1/Product/L").json()["data"]["title"] == "ok"

    def test_unknown_fields_warned_once(self, tenant: Tenant) -> None:
        result = tenant.run("Product", [{"sku": "K1", "colour": "x"}, {"sku": "K2", "colour": "y"}])
        assert result["status"] == "succeeded"
        warnings = tenant.errors(result["resourceId"], severity="warning")
        assert [(w["field"], w["rule"], w["index"]) for w in warnings] == [
            ("colour", "unknownField", 0)
        ]
        assert tenant.get("/data/v1/Product/K1").json()["data"] == {"sku": "K1"}


class TestValidateOnly:
    def test_reports_without_writing(self, tenant: Tenant) -> None:
        response = tenant.post(
            "Product",
            [{"sku": "V1"}, {"sku": "V2", "qoh": "x"}, {"sku": "V1"}],
            validateOnly="true",
        )
        assert response.status_code == 200
        body = response.json()
        assert body["validateOnly"] is True
        assert body["counts"] == {
            "received": 3,
            "valid": 2,
            "rejected": 1,
            "duplicates": 1,
            "warnings": 1,
        }
        assert [(e["index"], e["field"], e["rule"]) for e in body["errors"]] == [
            (1, "qoh", "type"),
            (0, "sku", "duplicate"),
        ]
        assert tenant.get("/data/v1/Product/V1").status_code == 404
        assert tenant.get("/data/v1/Import").json()["data"] == []


class TestReadApi:
    def test_filters_and_paging(self, tenant: Tenant) -> None:
        records = [
            {
                "sku": f"P{i:02}",
                "masterSku": f"M{i % 3}",
                "category": "Shoes" if i % 2 else "Hats",
                "brand": "Acme" if i < 5 else "Zed",
            }
            for i in range(12)
        ]
        tenant.run("Product", records)
        shoes = tenant.get("/data/v1/Product", category="Shoes").json()["data"]
        assert sorted(p["sku"] for p in shoes) == [f"P{i:02}" for i in range(12) if i % 2]
        m0_acme = tenant.get("/data/v1/Product", masterSku="M0", brand="Acme").json()["data"]
        assert sorted(p["sku"] for p in m0_acme) == ["P00", "P03"]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"count": 5} | ({"cursor": cursor} if cursor else {})
            page = tenant.get("/data/v1/Product", **params).json()
            seen += [p["sku"] for p in page["data"]]
            cursor = page["nextPageCursor"]
            if cursor is None:
                break
        assert seen == [f"P{i:02}" for i in range(12)]

    def test_unknown_sku_is_404_listrak_envelope(self, tenant: Tenant) -> None:
        response = tenant.get("/data/v1/Product/none")
        assert response.status_code == 404
        assert response.json()["error"] == "ERROR_UNABLE_TO_LOCATE_RESOURCE"

    def test_bad_count_is_invalid_parameter(self, tenant: Tenant) -> None:
        response = tenant.get("/data/v1/Product", count=0)
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "ERROR_INVALID_PARAMETER"
        assert "count" in body["message"]
