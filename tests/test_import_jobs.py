"""The import status routes: one import, the list, the paged error report."""

from __future__ import annotations

from datetime import datetime

from tests.conftest import Tenant


class TestImportStatus:
    def test_timings_and_status(self, tenant: Tenant) -> None:
        result = tenant.run("Product", [{"sku": "A"}, {"title": "no sku"}])
        assert result["status"] == "partially_failed"
        created = datetime.fromisoformat(result["createdAt"])
        started = datetime.fromisoformat(result["startedAt"])
        finished = datetime.fromisoformat(result["finishedAt"])
        assert created <= started <= finished
        assert result["payloadBytes"] == len(b'[{"sku":"A"},{"title":"no sku"}]')
        assert result["fileName"] is None

    def test_all_rejected_is_failed(self, tenant: Tenant) -> None:
        result = tenant.run("Product", [{"title": "x"}, {"title": "y"}])
        assert result["status"] == "failed"
        assert result["message"] == "Every record was rejected; see the errors."

    def test_unknown_import_is_404(self, tenant: Tenant) -> None:
        response = tenant.get("/data/v1/Import/0000000000000000000000000000dead")
        assert response.status_code == 404
        assert response.json()["error"] == "ERROR_UNABLE_TO_LOCATE_RESOURCE"

    def test_list_newest_first_and_paged(self, tenant: Tenant) -> None:
        ids = [tenant.run(entity, [])["resourceId"] for entity in ("Product", "Order", "Customer")]
        listed = tenant.get("/data/v1/Import").json()
        assert [i["resourceId"] for i in listed["data"]] == ids[::-1]
        first = tenant.get("/data/v1/Import", count=2).json()
        assert [i["resourceId"] for i in first["data"]] == ids[:0:-1]
        second = tenant.get("/data/v1/Import", count=2, cursor=first["nextPageCursor"]).json()
        assert [i["resourceId"] for i in second["data"]] == ids[:1]
        assert second["nextPageCursor"] is None
        orders = tenant.get("/data/v1/Import", entity="Order").json()["data"]
        assert [i["resourceId"] for i in orders] == [ids[1]]

    def test_errors_are_paged_in_record_order(self, tenant: Tenant) -> None:
        records = [{"sku": f"S{i}"} if i % 3 else {"title": f"bad {i}"} for i in range(30)]
        result = tenant.run("Product", records)
        assert result["counts"]["rejected"] == 10
        path = f"/data/v1/Import/{result['resourceId']}/errors"
        seen: list[int] = []
        cursor = "0"
        while cursor is not None:
            page = tenant.get(path, count=4, cursor=cursor).json()
            assert page["totalCount"] == 10
            seen += [e["index"] for e in page["data"]]
            cursor = page["nextPageCursor"]
        assert seen == list(range(0, 30, 3))
