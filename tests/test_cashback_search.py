"""Store search through HTTP: ranking, paging as a plain array, countries, bad terms."""

from __future__ import annotations

import random
import uuid
from typing import Any

from retailhub.cashback.catalog import search
from retailhub.config import get_settings
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
    assert operator.put(f"/stores/{store_id}", body).status_code in (200, 201)


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


class TestMemoryIndex:
    """The endpoint searches a per-process index (``catalog.search``) while the catalog cache
    is on, and the database while it is off: both must give the same answers."""

    def test_index_and_database_agree_through_http(
        self, operator: Operator, publisher: Publisher, monkeypatch: Any
    ) -> None:
        rng = random.Random(7)
        tag = "q" + uuid.uuid4().hex[:6]
        words = ["red", "redo", "bred", "shoe", "shoes", "ÉCLAIR", "éclair", "50%", "a_b"]
        base = random.randint(3 * 10**10, 4 * 10**10)
        for i in range(60):
            name = f"{rng.choice(words)} {tag}{rng.choice(['', ' ', 'x'])}{rng.choice(words)}"
            if i % 7 == 0:
                name = tag
            description = " ".join(rng.choice(words) for _ in range(3)) + f" {tag}"
            countries = rng.sample(["US", "CA", "GB", "GLOBAL"], rng.randint(1, 2))
            _put(operator, base + i, name, description if i % 3 else "", countries)
        operator.delete(f"/stores/{base + 5}")
        terms = [tag, f"{tag}x", f"red {tag}", "red", "bred", "éclair", "50%", "a_b", "shoe"]
        queries = [
            {"term": term, "size": size, "page": page, **extra}
            for term in terms
            for size, page in ((20, 0), (7, 1), (1000, 0))
            for extra in ({}, {"countries": "US"}, {"countries": "GLOBAL,CA"})
        ]
        settings = get_settings()
        answers: dict[float, list[list[int]]] = {}
        for seconds in (10.0, 0.0):
            monkeypatch.setattr(settings, "cashback_cache_seconds", seconds)
            if seconds:
                search.index.build()
            answers[seconds] = [
                [s["id"] for s in _ok(publisher.get("/v1/stores/search", **q))] for q in queries
            ]
            if seconds:
                # The answers above came from the index, not from the database.
                assert search.index.snapshot() is not None
        assert answers[10.0] == answers[0.0]
        # The comparison saw matches of every kind, not only empty pages.
        assert sum(1 for ids in answers[0.0] if len(ids) >= 7) > 20

    def test_a_write_through_the_process_is_searchable_at_once(
        self, operator: Operator, publisher: Publisher
    ) -> None:
        tag = "w" + uuid.uuid4().hex[:8]
        store_id = random.randint(4 * 10**10, 5 * 10**10)
        assert _names(publisher.get("/v1/stores/search", term=tag)) == []
        _put(operator, store_id, f"Fresh {tag}", "", ["US"])
        assert _names(publisher.get("/v1/stores/search", term=tag)) == [f"Fresh {tag}"]
        _put(operator, store_id, "Renamed", f"was {tag}", ["US"])
        assert _names(publisher.get("/v1/stores/search", term=tag)) == ["Renamed"]


def _ok(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json())


def _brute(
    stores: list[tuple[int, str, str, list[str]]], term: str, countries: tuple[str, ...]
) -> list[int]:
    """The ranking, spelled out: rank, then lower-cased name, then id."""
    served = search._served(countries)
    ranked = []
    for store_id, name, text, offered in stores:
        if served is not None and not served(frozenset(offered)):
            continue
        key = name.lower()
        if key == term:
            rank = 0
        elif key.startswith(term):
            rank = 1
        elif term in key:
            rank = 2
        elif term in text.lower():
            rank = 3
        else:
            continue
        ranked.append((rank, key, store_id))
    return [store_id for _, _, store_id in sorted(ranked)]


def test_snapshot_search_matches_the_ranking_rules() -> None:
    rng = random.Random(11)
    alphabet = "abé _%"  # no NUL: PostgreSQL text cannot hold it (the term may)
    stores = [
        (
            i,
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))),
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))),
            rng.sample(["US", "CA", "GLOBAL"], rng.randint(0, 2)),
        )
        for i in rng.sample(range(1, 10_000), 400)
    ]
    snapshot = search.Snapshot.build(
        (), [(i, name.lower(), text.lower(), offered) for i, name, text, offered in stores], {}
    )
    checked = 0
    for term in [
        "a",
        "b",
        "ab",
        "ba",
        "é",
        " ",
        "%",
        "_",
        "a a",
        "aé_",
        "\x00",
        "zz",
        "ab%",
        "aba",
        "bab",
        "éab",
        "abab",
        "b b",
        "aaa",
    ]:
        for countries in ((), ("US",), ("GLOBAL",), ("GLOBAL", "CA"), ("US", "CA")):
            expected = _brute(stores, term, countries)
            for wanted in (1, 5, 50, 1000):
                assert snapshot.search(term, countries, wanted) == expected[:wanted], (
                    term,
                    countries,
                    wanted,
                )
                checked += len(expected[:wanted])
    assert checked > 5_000
