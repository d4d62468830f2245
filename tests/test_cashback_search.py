"""Store search through HTTP: ranking, paging as a plain array, countries, bad terms."""

from __future__ import annotations

import random
import uuid
from typing import Any

from tests.cashback import Operator, Publisher


def _put(
    operator: Operator, store_id: int, name: str, description: str, countries: list[str]
) -> None:
    body = {
        "name": name,
        "url": "https://shop.example.com/",
        "description": description,
        "commission": {"value": "1.80", "format": "%"},
        "countries": countries,
    }
    assert operator.put(f"/stores/{store_id}", body).status_code == 201


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [store["name"] for store in response.json()]


class TestSearch:
    def test_ranked_equal_prefix_contains_then_description(
        self, operator: Operator, publisher: Publisher
    ) -> None:
        term = "zx" + uuid.uuid4().hex[:8]
        base = random.randint(10**10, 2 * 10**10)
        stores = [
            (f"Big {term} Outlet", "", ["US"]),
            (f"{term} Shop", "", ["US", "CA"]),
            ("Plain Store B", f"sells {term.upper()} things", ["GLOBAL"]),
            (term.upper(), "", ["CA"]),
            ("Plain Store A", f"all about {term}", ["US"]),
            (f"{term} Apparel", "", ["US"]),
            (f"A {term}", "", ["US"]),
        ]
        for i, (name, description, countries) in enumerate(stores):
            _put(operator, base + i, name, description, countries)
        found = publisher.get("/v1/stores/search", term=term)
        assert _names(found) == [
            term.upper(),
            f"{term} Apparel",
            f"{term} Shop",
            f"A {term}",
            f"Big {term} Outlet",
            "Plain Store A",
            "Plain Store B",
        ]
        first = found.json()[0]
        assert set(first) == {
            "id",
            "name",
            "url",
            "commission",
            "description",
            "language",
            "trackingUrl",
            "imageUrl",
            "countries",
        }
        assert first["trackingUrl"].endswith(f"cid={publisher.cid}&cp=")
        assert first["commission"] == {"value": 1.8, "format": "%"}

        second_page = publisher.get("/v1/stores/search", term=term, size=3, page=1)
        assert _names(second_page) == [f"A {term}", f"Big {term} Outlet", "Plain Store A"]
        assert _names(publisher.get("/v1/stores/search", term=term, size=3, page=3)) == []

        us_ca = publisher.get("/v1/stores/search", term=term, countries="US,CA")
        assert _names(us_ca) == [f"{term} Shop"]
        widened = publisher.get("/v1/stores/search", term=term, countries="GLOBAL,CA")
        assert _names(widened) == [term.upper(), f"{term} Shop", "Plain Store B"]

        operator.delete(f"/stores/{base + 3}")
        assert term.upper() not in _names(publisher.get("/v1/stores/search", term=term.lower()))

    def test_wildcards_in_the_term_are_literal(
        self, operator: Operator, publisher: Publisher
    ) -> None:
        tag = uuid.uuid4().hex[:8]
        base = random.randint(2 * 10**10, 3 * 10**10)
        _put(operator, base, f"100% {tag}", "", ["US"])
        _put(operator, base + 1, f"100x_{tag}", "", ["US"])
        assert _names(publisher.get("/v1/stores/search", term=f"0% {tag}")) == [f"100% {tag}"]
        assert _names(publisher.get("/v1/stores/search", term=f"_{tag}")) == [f"100x_{tag}"]
        assert _names(publisher.get("/v1/stores/search", term=f"%{tag}")) == []

    def test_term_is_required_and_countries_checked(self, publisher: Publisher) -> None:
        for params in ({}, {"term": "  "}):
            response = publisher.get("/v1/stores/search", **params)
            assert (response.status_code, response.json()["field"]) == (400, "term")
        bad = publisher.get("/v1/stores/search", term="shoe", countries="QQ")
        assert (bad.status_code, bad.json()["field"]) == (400, "countries")
