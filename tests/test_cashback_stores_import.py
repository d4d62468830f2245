"""``retailhub stores import FILE`` as a process, for JSON and CSV, with rejected records."""

from __future__ import annotations

import json
import random
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cashback import Operator, Publisher


def _run(repo_root: Path, env: dict[str, str], path: Path) -> tuple[int, dict[str, Any]]:
    import os

    done = subprocess.run(
        [str(repo_root / ".venv/bin/retailhub"), "stores", "import", str(path)],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def base() -> int:
    return random.randint(3 * 10**10, 4 * 10**10)


def _store(store_id: int, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": store_id,
        "name": name,
        "url": "https://shop.example.com/",
        "commission": {"value": 1.8, "format": "%"},
        "countries": ["GLOBAL", "US"],
        **extra,
    }


class TestImportJson:
    def test_good_records_kept_bad_ones_reported(
        self,
        repo_root: Path,
        env: dict[str, str],
        tmp_path: Path,
        base: int,
        publisher: Publisher,
        operator: Operator,
    ) -> None:
        tag = uuid.uuid4().hex[:8]
        category = f"Imported {tag}"
        records = [
            _store(
                base,
                f"Json {tag} A",
                categories=[category],
                tags=["topStores"],
                address={"line1": "1 Main St", "city": "Forest Park"},
                alternativeContent=[{"language": "fr", "description": "Salut"}],
            ),
            _store(base + 1, f"Json {tag} B", commission={"value": 150, "format": "%"}),
            _store(base + 2, f"Json {tag} C", countries=["US", "XX"]),
            {
                "name": "no id",
                "url": "https://x.example.com",
                "commission": {"value": 1, "format": "%"},
            },
            _store(base + 3, f"Json {tag} D", home="US"),
        ]
        path = tmp_path / "stores.json"
        path.write_text(json.dumps(records))
        code, summary = _run(repo_root, env, path)
        assert code == 3
        assert (summary["imported"], summary["inserted"], summary["rejected"]) == (2, 2, 3)
        assert [(e["index"], e["field"]) for e in summary["errors"]] == [
            (1, "commission"),
            (2, "countries"),
            (3, "id"),
        ]
        assert all(e["rule"] and e["message"] for e in summary["errors"])

        found = publisher.get("/v1/stores", ids=f"{base},{base + 1},{base + 3}").json()["content"]
        assert [s["id"] for s in found] == [base, base + 3]
        assert found[0]["categories"] == [category]
        assert (
            publisher.get("/v1/stores", ids=base, tagName="topStores", hasAddress="true").json()[
                "totalElements"
            ]
            == 1
        )
        slugs = {
            c["name"]: c["seoFriendlyId"] for c in publisher.get("/v1/stores/categories").json()
        }
        assert slugs[category] == f"imported-{tag}"

        records[0]["name"] = f"Json {tag} A2"
        path.write_text(json.dumps([records[0], records[4]]))
        code, summary = _run(repo_root, env, path)
        assert code == 0
        assert (summary["updated"], summary["unchanged"], summary["rejected"]) == (1, 1, 0)
        assert operator.get(f"/stores/{base}").json()["name"] == f"Json {tag} A2"

    def test_nothing_imported_exits_1(
        self, repo_root: Path, env: dict[str, str], tmp_path: Path
    ) -> None:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps([{"id": 1, "name": ""}]))
        code, summary = _run(repo_root, env, path)
        assert (code, summary["imported"], summary["rejected"]) == (1, 0, 1)


class TestImportCsv:
    def test_csv_columns(
        self,
        repo_root: Path,
        env: dict[str, str],
        tmp_path: Path,
        base: int,
        operator: Operator,
    ) -> None:
        tag = uuid.uuid4().hex[:8]
        path = tmp_path / "stores.csv"
        path.write_text(
            "id,name,url,commission,countries,tags,categories,address.line1,address.city,commissionDetails\n"
            f'{base},Csv {tag} A,https://a.example.com,1.80%,"US,CA",topStores,'
            f"Cat {tag},1 Main,Paris,"
            '"[{""name"": ""Hotels"", ""commission"": {""value"": 8, ""format"": ""%""}}]"\n'
            f"{base + 1},Csv {tag} B,https://b.example.com,2.50 USD,GLOBAL,,,,,\n"
            f"{base + 2},Csv {tag} C,https://c.example.com,lots,US,,,,,\n"
            f"{base + 3},Csv {tag} D,https://d.example.com,1%,US,,,,,[oops\n"
        )
        code, summary = _run(repo_root, env, path)
        assert code == 3
        assert (summary["imported"], summary["rejected"]) == (2, 2)
        assert [(e["line"], e["field"]) for e in summary["errors"]] == [
            (4, "commission"),
            (5, "commissionDetails"),
        ]
        a = operator.get(f"/stores/{base}").json()
        assert a["commission"] == {"value": 1.8, "format": "%"}
        assert (a["countries"], a["tags"], a["categories"]) == (
            ["US", "CA"],
            ["topStores"],
            [f"Cat {tag}"],
        )
        assert a["address"]["city"] == "Paris"
        assert a["commissionDetails"] == [
            {"name": "Hotels", "commission": {"value": 8, "format": "%"}}
        ]
        b = operator.get(f"/stores/{base + 1}").json()
        assert (b["commission"], b["countries"]) == ({"value": 2.5, "format": "USD"}, ["GLOBAL"])
