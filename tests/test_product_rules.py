"""The product data rules of Listrak's product schema specification, through the REST
import (the file import shares them: see test_file_imports). Each rule: one accepted and
one rejected (or warned) record."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant

BASE = {"sku": "S-1", "title": "Cabana Top", "price": 24.99}


def run(tenant: Tenant, record: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    result = tenant.run("Product", [{**BASE, **record}])
    return result, tenant.errors(result["resourceId"])


REJECTED = [
    ({"imageUrl": "www.example.com/a.jpg"}, "imageUrl", "url"),
    ({"linkUrl": "ftp://example.com/p"}, "linkUrl", "url"),
    ({"reviewURL": "example-reviews.com/?id=1"}, "reviewURL", "url"),
    ({"imageUrl": "https://x/" + "a" * 491}, "imageUrl", "maxLength"),
    ({"gender": "Female"}, "gender", "enum"),
    ({"salePrice": 24.99}, "salePrice", "lessThanPrice"),
    ({"salePrice": 30}, "salePrice", "lessThanPrice"),
    (
        {"saleStartDate": "2018-09-23T17:23:48Z", "saleEndDate": "2018-08-23T17:23:48Z"},
        "saleStartDate",
        "dateOrder",
    ),
    ({"relatedProducts": [{"sku": "R-1", "rank": 26}]}, "relatedProducts[0].rank", "range"),
    ({"relatedProducts": [{"sku": "R-1", "rank": 0}]}, "relatedProducts[0].rank", "range"),
    ({"relatedProducts": [{"sku": "R" * 101}]}, "relatedProducts[0].sku", "maxLength"),
    (
        {"relatedProducts": [{"sku": "R-1", "type": "T" * 101}]},
        "relatedProducts[0].type",
        "maxLength",
    ),
    ({"description": "d" * 4001}, "description", "maxLength"),
    ({"title": "t" * 501}, "title", "maxLength"),
    ({"brand": "b" * 51}, "brand", "maxLength"),
    ({"subCategory": "c" * 51}, "subCategory", "maxLength"),
    ({"color": "c" * 101}, "color", "maxLength"),
    ({"size": "s" * 51}, "size", "maxLength"),
    ({"sku": "s" * 101}, "sku", "maxLength"),
]


@pytest.mark.parametrize(("record", "field", "rule"), REJECTED)
def test_rule_rejects(tenant: Tenant, record: dict[str, Any], field: str, rule: str) -> None:
    result, errors = run(tenant, record)
    assert result["status"] == "failed"
    assert result["counts"]["rejected"] == 1
    assert [(e["field"], e["rule"], e["severity"]) for e in errors] == [(field, rule, "error")]
    assert tenant.get("/data/v1/Product/S-1").status_code == 404


ACCEPTED = [
    {"imageUrl": "http://www.example.com/images/abs9843723.jpg"},
    {"linkUrl": "HTTPS://www.example.com/tops/womens-cabana-top.aspx"},
    {"reviewURL": "http://www.example-reviews.com/?reviewproductid=40245.aspx"},
    {"imageUrl": "https://x/" + "a" * 490},
    {"gender": "F"},
    {"gender": "n"},
    {"salePrice": 21.95},
    {"saleStartDate": "2018-08-23T17:23:48Z", "saleEndDate": "2018-09-23T17:23:48Z"},
    {
        "relatedProducts": [
            {"sku": "R-1", "type": "Cross-sell", "rank": 1},
            {"sku": "R-2", "rank": 25},
        ]
    },
    {"relatedProducts": [{"sku": "R" * 100, "type": "T" * 100}]},
    {"description": "d" * 4000},
    {"title": "t" * 500, "brand": "b" * 50, "category": "c" * 50, "subCategory": "c" * 50},
    {"color": "c" * 100, "style": "s" * 100, "size": "s" * 50, "sku": "S-1"},
]


@pytest.mark.parametrize("record", ACCEPTED)
def test_rule_accepts(tenant: Tenant, record: dict[str, Any]) -> None:
    result, errors = run(tenant, record)
    assert result["status"] == "succeeded", errors
    assert result["counts"]["inserted"] == 1
    assert errors == []


def test_gender_is_stored_uppercase(tenant: Tenant) -> None:
    run(tenant, {"gender": "m"})
    assert tenant.get("/data/v1/Product/S-1").json()["data"]["gender"] == "M"


WARNED = [
    ({"title": "WOMEN'S CABANA TOP"}, "title", "allCaps"),
    ({"title": "Cabana <b>Top</b>"}, "title", "html"),
    ({"title": "Cabana Top &amp; Wrap"}, "title", "html"),
    ({"brand": "N/A"}, "brand", "placeholder"),
    ({"category": "None"}, "category", "placeholder"),
    ({"onSale": True, "saleStartDate": "2018-08-23T17:23:48Z"}, "onSale", "onSaleWithDates"),
]


@pytest.mark.parametrize(("record", "field", "rule"), WARNED)
def test_guidance_warns_and_imports(
    tenant: Tenant, record: dict[str, Any], field: str, rule: str
) -> None:
    result, errors = run(tenant, record)
    assert result["status"] == "succeeded"
    assert result["counts"]["inserted"] == 1
    assert result["counts"]["warnings"] == 1
    assert [(e["field"], e["rule"], e["severity"]) for e in errors] == [(field, rule, "warning")]
    assert tenant.get("/data/v1/Product/S-1").status_code == 200


@pytest.mark.parametrize(
    "record",
    [
        {"title": "USB Cable"},  # a short acronym is not shouting
        {"title": "Cabana Top 3 < 4"},  # a lone < is not HTML
        {"brand": "Nonesuch"},
        {"onSale": True},
        {"saleStartDate": "2018-08-23T17:23:48Z"},
    ],
)
def test_guidance_quiet_on_good_data(tenant: Tenant, record: dict[str, Any]) -> None:
    result, errors = run(tenant, record)
    assert result["status"] == "succeeded"
    assert result["counts"]["warnings"] == 0, errors


def test_every_error_of_a_record_is_reported(tenant: Tenant) -> None:
    result, errors = run(tenant, {"imageUrl": "img.jpg", "gender": "X", "salePrice": 99})
    assert result["counts"]["rejected"] == 1
    assert sorted((e["field"], e["rule"]) for e in errors) == [
        ("gender", "enum"),
        ("imageUrl", "url"),
        ("salePrice", "lessThanPrice"),
    ]
    assert all(e["index"] == 0 for e in errors)
