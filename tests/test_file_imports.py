"""File-drop imports end to end: real SFTP and FTP clients drop files on the real servers,
the real job runner imports them, and the results are read back through the Data API and
the tenant's ``results/`` and ``archive/`` folders."""

from __future__ import annotations

import codecs
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant, create_tenant_creds
from tests.files import Dropper, Ports, csv_bytes

pytestmark = pytest.mark.timeout(120)

PRODUCT_HEADER = ["sku", "title", "price", "saleprice", "imageurl", "instock", "gender"]


@pytest.fixture(scope="session")
def ports(client: TestClient) -> Iterator[Ports]:
    from retailhub.files.servers import FileServers

    servers = FileServers("127.0.0.1", 0, 0)
    servers.start()
    yield Ports(sftp=servers.sftp_port, ftp=servers.ftp_port)
    servers.stop()


@pytest.fixture
def drop(client: TestClient, ports: Ports) -> Dropper:
    return Dropper(Tenant(client, create_tenant_creds()), ports)


def products(drop: Dropper) -> dict[str, dict[str, Any]]:
    response = drop.tenant.get("/data/v1/Product", count=1000)
    assert response.status_code == 200, response.text
    return {p["sku"]: p for p in response.json()["data"]}


def counts(result: dict[str, Any]) -> dict[str, int]:
    c = result["counts"]
    return {k: c[k] for k in ("received", "inserted", "updated", "unchanged", "rejected")}


GOOD_AND_BAD = csv_bytes(
    [
        PRODUCT_HEADER,
        ["A-1", "Cabana Top, Red", "24.99", "21.95", "https://x/a1.jpg", "Y", "F"],
        ["A-2", 'The "Classic" Tee', "10", "", "", "no", "M"],
        ["A-3", "Bad Sale", "10", "12", "", "", ""],
        ["A-4", "Bad Url", "10", "", "www.x/a4.jpg", "", ""],
        ["A-5", "Bad Bool", "10", "", "", "maybe", ""],
    ]
)


class TestProductFile:
    def test_sftp_drop_imports_good_rows_and_reports_bad_ones(self, drop: Dropper) -> None:
        name = "Listrak_Product_Feed_20261123.csv"
        drop.sftp_put(name, GOOD_AND_BAD)
        result = drop.wait_import(name)
        assert result["status"] == "partially_failed"
        assert result["source"] == "sftp"
        assert result["entity"] == "Product"
        assert counts(result) == {
            "received": 5,
            "inserted": 2,
            "updated": 0,
            "unchanged": 0,
            "rejected": 3,
        }
        stored = products(drop)
        assert stored["A-1"] == {
            "sku": "A-1",
            "title": "Cabana Top, Red",
            "price": 24.99,
            "salePrice": 21.95,
            "imageUrl": "https://x/a1.jpg",
            "inStock": True,
            "gender": "F",
        }
        assert stored["A-2"]["title"] == 'The "Classic" Tee'
        assert stored["A-2"]["inStock"] is False
        errors = drop.tenant.errors(result["resourceId"])
        assert [(e["line"], e["field"], e["rule"]) for e in errors] == [
            (4, "saleprice", "lessThanPrice"),
            (5, "imageurl", "url"),
            (6, "instock", "type"),
        ]
        assert all(e["index"] is None for e in errors)
        report = drop.report_lines(name)
        assert [(r["line"], r["column"], r["severity"], r["rule"]) for r in report or []] == [
            ("4", "saleprice", "error", "lessThanPrice"),
            ("5", "imageurl", "error", "url"),
            ("6", "instock", "error", "type"),
        ]
        assert report and report[0]["value"] == "12"
        summary = drop.report_summary(name)
        assert summary["status"] == "partially_failed"
        assert (summary["received"], summary["inserted"], summary["rejected"]) == ("5", "2", "3")
        assert name in drop.wait_listed("archive", name)
        assert name not in drop.sftp_list(".")

    def test_same_content_twice_is_a_duplicate(self, drop: Dropper) -> None:
        drop.sftp_put("Products.csv", GOOD_AND_BAD)
        first = drop.wait_import("Products.csv")
        drop.sftp_put("Listrak_Product_Feed_2026-11-24.csv", GOOD_AND_BAD)
        second = drop.wait_import("Listrak_Product_Feed_2026-11-24.csv")
        assert second["status"] == "duplicate"
        assert first["resourceId"] in second["message"]
        assert counts(second) == dict.fromkeys(counts(second), 0)
        assert drop.report_summary("Listrak_Product_Feed_2026-11-24.csv")["status"] == "duplicate"
        # Changed content is imported again; unchanged rows count as unchanged.
        changed = GOOD_AND_BAD.replace(b"Cabana Top, Red", b"Cabana Top, Blue")
        drop.sftp_put("Products.csv", changed)
        third = drop.wait_import("Products.csv", nth=2)
        assert counts(third) == {
            "received": 5,
            "inserted": 0,
            "updated": 1,
            "unchanged": 1,
            "rejected": 3,
        }

    def test_partial_name_is_imported_once_renamed(self, drop: Dropper) -> None:
        name = "Listrak_Product_Feed_1.csv"
        drop.sftp_put(name + ".part", GOOD_AND_BAD, final_name=name)
        result = drop.wait_import(name)
        assert result["counts"]["received"] == 5
        assert len(drop.imports(name)) == 1
        assert drop.imports(name + ".part") == []

    def test_unrecognized_name_is_reported_and_left_alone(self, drop: Dropper) -> None:
        for name in ("catalog.csv", "Listrak_Product_Feed_2026.pdf"):
            drop.sftp_put(name, GOOD_AND_BAD)
            drop.wait_listed("results", f"{name}.result.csv")
            assert drop.report_summary(name)["status"] == "unrecognized"
            assert name in drop.sftp_list(".")
            assert drop.imports(name) == []

    def test_tenant_mapping_names_other_files(self, drop: Dropper) -> None:
        from retailhub.db import session_scope
        from retailhub.tenants.service import map_files

        with session_scope(write=True) as session:
            map_files(session, slug=drop.slug, pattern="catalog_*.csv", entity="product")
        drop.sftp_put("Catalog_0001.csv", GOOD_AND_BAD)
        assert drop.wait_import("Catalog_0001.csv")["entity"] == "Product"


class TestFormats:
    ROWS = [
        ["sku", "title", "price"],
        ["E-1", "Café crème", "1.5"],
        ["E-2", "Ünïcödé | tab\tin text", "2"],
    ]

    @pytest.mark.parametrize(
        ("encoding", "bom", "delimiter"),
        [
            ("utf-8", b"", ","),
            ("utf-8", codecs.BOM_UTF8, "|"),
            ("utf-16-le", codecs.BOM_UTF16_LE, "\t"),
            ("utf-16-be", codecs.BOM_UTF16_BE, ","),
            ("utf-7", b"", ","),
        ],
    )
    def test_encodings_and_delimiters(
        self, drop: Dropper, encoding: str, bom: bytes, delimiter: str
    ) -> None:
        data = bom + csv_bytes(self.ROWS, delimiter=delimiter, encoding=encoding)
        drop.sftp_put("Products.txt", data)
        result = drop.wait_import("Products.txt")
        assert result["status"] == "succeeded", drop.tenant.errors(result["resourceId"])
        stored = products(drop)
        assert stored["E-1"]["title"] == "Café crème"
        assert stored["E-2"]["title"] == "Ünïcödé | tab\tin text"
        assert stored["E-1"]["price"] == 1.5

    def test_ascii_file(self, drop: Dropper) -> None:
        drop.sftp_put("Products.csv", b"SKU,Title\r\nC++,A+B plus\r\n")
        assert drop.wait_import("Products.csv")["status"] == "succeeded"
        assert products(drop)["C++"]["title"] == "A+B plus"

    def test_2015_column_names(self, drop: Dropper) -> None:
        data = csv_bytes(
            [
                ["Sku", "Title", "ImageUrl", "SubCategory", "OnSale", "QOH", "MasterSku"],
                ["P-1", "Top", "http://x/1.jpg", "Tops", "1", "45", "P"],
            ]
        )
        drop.sftp_put("Products.csv", data)
        assert drop.wait_import("Products.csv")["status"] == "succeeded"
        assert products(drop)["P-1"] == {
            "sku": "P-1",
            "title": "Top",
            "imageUrl": "http://x/1.jpg",
            "subCategory": "Tops",
            "onSale": True,
            "qoh": 45,
            "masterSku": "P",
        }

    def test_related_columns_and_unknown_column_warned_once(self, drop: Dropper) -> None:
        data = csv_bytes(
            [
                ["sku", "related_sku1", "related_type1", "related_rank1", "related_sku2", "colour"],
                ["R-1", "R-2", "Similar", "1", "R-3", "red"],
                ["R-2", "", "", "", "", "blue"],
            ]
        )
        drop.sftp_put("Products.csv", data)
        result = drop.wait_import("Products.csv")
        assert result["status"] == "succeeded"
        assert result["counts"]["warnings"] == 1
        [warning] = drop.tenant.errors(result["resourceId"])
        assert (warning["field"], warning["rule"], warning["severity"]) == (
            "colour",
            "unknownColumn",
            "warning",
        )
        assert products(drop)["R-1"]["relatedProducts"] == [
            {"sku": "R-2", "type": "Similar", "rank": 1},
            {"sku": "R-3"},
        ]


class TestXlsx:
    def test_workbook_with_numbers_dates_and_booleans(self, drop: Dropper, tmp_path: Path) -> None:
        import datetime as dt

        import xlsxwriter

        path = tmp_path / "book.xlsx"
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet()
        stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheet.write_row(0, 0, ["SKU", "Title", "Price", "QOH", "InStock", "SaleStartDate"])
        sheet.write_row(1, 0, ["X-1", "Cabana, Top", 24.99, 45, True])
        sheet.write_datetime(1, 5, dt.datetime(2026, 11, 20, 10, 0, 0), stamp)
        sheet.write_row(2, 0, ["X-2", "Tee", "free", 3, False])
        book.close()
        drop.sftp_put("Listrak_Product_Feed_2026-11-23.xlsx", path.read_bytes())
        result = drop.wait_import("Listrak_Product_Feed_2026-11-23.xlsx")
        assert counts(result) == {
            "received": 2,
            "inserted": 1,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
        assert products(drop)["X-1"] == {
            "sku": "X-1",
            "title": "Cabana, Top",
            "price": 24.99,
            "qoh": 45,
            "inStock": True,
            # A workbook time has no zone: US Eastern, like the text files.
            "saleStartDate": "2026-11-20T15:00:00Z",
        }
        [error] = drop.tenant.errors(result["resourceId"])
        assert (error["line"], error["field"], error["value"]) == (3, "Price", "free")


class TestBadFiles:
    def seed(self, drop: Dropper) -> dict[str, dict[str, Any]]:
        drop.sftp_put("Products.csv", csv_bytes([["sku", "title"], ["K-1", "Kept"]]))
        drop.wait_import("Products.csv")
        return products(drop)

    @pytest.mark.parametrize(
        ("data", "rule"),
        [
            (b"", "empty"),
            (b"\x00\x01\x02\xff\xfe\x00garbage\x00" * 50, "binary"),
            (b"sku,title\r\nK-1,caf\xe9\r\n", "encoding"),
            (b"sku,title,SKU\r\nK-1,x,y\r\n", "duplicateHeader"),
        ],
    )
    def test_unreadable_file_fails_and_changes_nothing(
        self, drop: Dropper, data: bytes, rule: str
    ) -> None:
        before = self.seed(drop)
        drop.sftp_put("Listrak_Product_Feed_2.csv", data)
        result = drop.wait_import("Listrak_Product_Feed_2.csv")
        assert result["status"] == "failed"
        assert result["counts"]["received"] == 0
        [error] = drop.tenant.errors(result["resourceId"])
        assert (error["field"], error["rule"]) == ("(file)", rule)
        assert result["message"] == error["message"]
        assert products(drop) == before
        assert drop.report_summary("Listrak_Product_Feed_2.csv")["status"] == "failed"

    def test_two_columns_for_one_field_fail_the_file(self, drop: Dropper) -> None:
        drop.sftp_put("Products.csv", b"sku,sale_price,SalePrice\r\nK-1,1,2\r\n")
        result = drop.wait_import("Products.csv")
        assert result["status"] == "failed"
        [error] = drop.tenant.errors(result["resourceId"])
        assert (error["field"], error["rule"]) == ("(file)", "duplicateHeader")

    def test_stray_inch_marks_keep_every_good_line(self, drop: Dropper) -> None:
        good = [f"M-{n},plain {n},1" for n in range(50)]
        lines = ["sku,title,price", 'M-a,6 7/8" pipe,1', *good, 'M-b,9" thing,x', "M-c,fine,3"]
        drop.sftp_put("Products.csv", ("\r\n".join(lines) + "\r\n").encode())
        result = drop.wait_import("Products.csv")
        c = counts(result)
        assert c == {"received": 53, "inserted": 52, "updated": 0, "unchanged": 0, "rejected": 1}
        [error] = drop.tenant.errors(result["resourceId"])
        assert (error["line"], error["field"]) == (53, "price")
        assert len(products(drop)) == 52

    def test_a_line_too_long_stops_reading_but_keeps_what_came_before(
        self, drop: Dropper, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from retailhub.config import get_settings

        # Small batches, so that a batch would have to end inside the long line.
        monkeypatch.setattr(get_settings(), "payload_chunk_bytes", 1024)
        rows = b"".join(b"L-%d,t,1\r\n" % n for n in range(20))
        drop.sftp_put(
            "Products.csv",
            b"sku,title,price\r\n" + rows + b"L-x," + b"y" * (2 << 20) + b",1\r\nL-y,t,1\r\n",
        )
        result = drop.wait_import("Products.csv")
        assert result["status"] == "failed", (result, drop.tenant.errors(result["resourceId"]))
        c = counts(result)
        assert c == {"received": 21, "inserted": 20, "updated": 0, "unchanged": 0, "rejected": 1}
        [error] = drop.tenant.errors(result["resourceId"])
        assert (error["line"], error["rule"]) == (22, "lineLength")
        assert "not imported" in result["message"]

    def test_a_duplicate_keeps_the_report_of_the_first_drop(self, drop: Dropper) -> None:
        drop.sftp_put("Products.csv", GOOD_AND_BAD)
        first = drop.wait_import("Products.csv")
        drop.sftp_put("Products.csv", GOOD_AND_BAD)
        deadline = time.monotonic() + 30
        while len(drop.imports("Products.csv")) < 2 or any(
            i["status"] not in ("duplicate", "partially_failed")
            for i in drop.imports("Products.csv")
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = max(drop.imports("Products.csv"), key=lambda i: i["resourceId"])
        assert second["status"] == "duplicate"
        own = f"Products.csv.{second['resourceId']}"
        drop.wait_listed("results", f"{own}.result.csv")
        assert drop.report_summary("Products.csv")["import"] == first["resourceId"]
        assert drop.report_summary(own)["status"] == "duplicate"

    def test_header_only_imports_nothing(self, drop: Dropper) -> None:
        drop.sftp_put("Products.csv", b"sku,title\r\n")
        result = drop.wait_import("Products.csv")
        assert result["status"] == "succeeded"
        assert counts(result) == dict.fromkeys(counts(result), 0)

    def test_ragged_rows_are_rejected_by_line(self, drop: Dropper) -> None:
        data = b"sku,title\r\nG-1,ok\r\nG-2\r\nG-3,too,many\r\nG-4,ok\r\n"
        drop.sftp_put("Products.csv", data)
        result = drop.wait_import("Products.csv")
        assert counts(result) == {
            "received": 4,
            "inserted": 2,
            "updated": 0,
            "unchanged": 0,
            "rejected": 2,
        }
        errors = drop.tenant.errors(result["resourceId"])
        assert [(e["line"], e["rule"]) for e in errors] == [(3, "columns"), (4, "columns")]
        assert set(products(drop)) == {"G-1", "G-4"}

    def test_unterminated_quote_keeps_earlier_rows(self, drop: Dropper) -> None:
        data = b'sku,title\r\nQ-1,ok\r\nQ-2,"never closed\r\nQ-3,lost\r\n'
        drop.sftp_put("Products.csv", data)
        result = drop.wait_import("Products.csv")
        assert result["counts"]["inserted"] == 1
        assert result["counts"]["rejected"] == 1
        [error] = drop.tenant.errors(result["resourceId"])
        assert (error["line"], error["rule"]) == (3, "quote")
        assert set(products(drop)) == {"Q-1"}

    def test_zero_byte_ftp_upload_is_reported(self, drop: Dropper) -> None:
        drop.ftp_put("Customers.csv", b"")
        result = drop.wait_import("Customers.csv")
        assert result["source"] == "ftp"
        assert result["status"] == "failed"
        assert drop.tenant.errors(result["resourceId"])[0]["rule"] == "empty"


class TestOrders:
    def test_items_before_their_order_join_it_and_orders_never_delete_items(
        self, drop: Dropper
    ) -> None:
        items = csv_bytes(
            [
                ["OrderNumber", "Sku", "Quantity", "Price", "Status"],
                ["O-1", "A", "2", "5.00", "7"],
                ["O-1", "B", "1", "3.50", "Shipped"],
            ]
        )
        drop.ftp_put("Listrak_OrderItem_Feed_20261123.csv", items)
        first = drop.wait_import("Listrak_OrderItem_Feed_20261123.csv")
        assert first["entity"] == "OrderItem"
        assert first["counts"]["inserted"] == 2
        orders = csv_bytes(
            [
                [
                    "ordernumber",
                    "alternateordernumber",
                    "dateentered",
                    "email",
                    "ordertotal",
                    "status",
                ],
                ["O-1", "", "2026-11-20T10:00:00", "a@x.com", "13.50", "8"],
                ["", "ALT-2", "2026-11-21T10:00:00Z", "b@x.com", "1", "Completed"],
            ]
        )
        drop.ftp_put("Listrak_Order_Feed_20261123.csv", orders)
        result = drop.wait_import("Listrak_Order_Feed_20261123.csv")
        assert result["status"] == "succeeded", drop.tenant.errors(result["resourceId"])
        order = drop.tenant.get("/data/v1/Order/O-1").json()["data"]
        # Eastern time when the file gives no zone: 10:00 EST is 15:00 UTC.
        assert order["dateEntered"] == "2026-11-20T15:00:00Z"
        assert order["status"] == "Completed"
        assert [(i["sku"], i["quantity"], i["status"]) for i in order["items"]] == [
            ("A", 2, "Shipped"),
            ("B", 1, "Shipped"),
        ]
        assert drop.tenant.get("/data/v1/Order/ALT-2").status_code == 200
        # The same item again changes nothing; a changed one updates its line.
        again = items.replace(b"O-1,B,1,3.50", b"O-1,B,3,3.50")
        drop.ftp_put("OrderItems.csv", again)
        third = drop.wait_import("OrderItems.csv")
        assert (third["counts"]["unchanged"], third["counts"]["updated"]) == (1, 1)
        order = drop.tenant.get("/data/v1/Order/O-1").json()["data"]
        assert [(i["sku"], i["quantity"]) for i in order["items"]] == [("A", 2), ("B", 3)]


class TestCli:
    def test_import_command(self, drop: Dropper, tmp_path: Any, env: dict[str, str]) -> None:
        import json
        import os
        import subprocess
        import sys

        path = tmp_path / "Listrak_Product_Feed_9.csv"
        path.write_bytes(GOOD_AND_BAD)
        retailhub = str(Path(sys.executable).with_name("retailhub"))
        command = [retailhub, "import", str(path), "--tenant", drop.slug]
        proc = subprocess.run(
            command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 3, proc.stderr
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        assert summary["status"] == "partially_failed"
        assert (summary["inserted"], summary["rejected"]) == (2, 3)
        assert "line 4: saleprice: lessThanPrice" in proc.stderr
        assert path.exists()  # the command line leaves its file where it was
        result = drop.tenant.wait(summary["resourceId"])
        assert result["source"] == "cli"
        assert drop.report_summary(path.name)["status"] == "partially_failed"
        # Again: a duplicate (exit 3); with --force, imported again, all unchanged.
        proc = subprocess.run(
            command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 4, proc.stderr
        proc = subprocess.run(
            [*command, "--force"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        assert (summary["unchanged"], summary["rejected"]) == (2, 3)


class TestValues:
    def test_value_forms_of_the_file_specification(self, drop: Dropper) -> None:
        rows = [["sku", "instock", "onsale", "discontinued", "isclearance", "title", "price"]]
        forms = [("Y", "N"), ("Yes", "no"), ("1", "0"), ("TRUE", "False"), ("true", "null")]
        for n, (yes, no) in enumerate(forms):
            rows.append([f"V-{n}", yes, no, yes, no, "Plain Title", "24.99"])
        rows.append(["V-9", "", "", "", "", "LOUD TITLE", "$24.99"])
        rows.append(["V-10", "", "", "", "", "LOUD TITLE", "5"])
        drop.sftp_put("Products.csv", csv_bytes(rows))
        result = drop.wait_import("Products.csv")
        assert counts(result) == {
            "received": 7,
            "inserted": 6,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
        stored = products(drop)
        for n, (_yes, no) in enumerate(forms):
            expected_no = None if no == "null" else False
            got = stored[f"V-{n}"]
            assert (got["inStock"], got.get("onSale"), got["discontinued"]) == (
                True,
                expected_no,
                True,
            ), got
        issues = [
            (e["line"], e["field"], e["rule"], e["severity"])
            for e in drop.tenant.errors(result["resourceId"])
        ]
        # A currency symbol is not a decimal; the soft guidance is a warning by column name.
        assert issues == [(7, "price", "type", "error"), (8, "title", "allCaps", "warning")]

    def test_order_and_item_status_names_and_codes(self, drop: Dropper) -> None:
        rows = [["OrderNumber", "Status"], ["S-0", "0"], ["S-11", "11"], ["S-n", "backorder"]]
        rows.append(["S-bad", "12x"])
        drop.sftp_put("Orders.csv", csv_bytes(rows))
        result = drop.wait_import("Orders.csv")
        assert (result["counts"]["inserted"], result["counts"]["rejected"]) == (3, 1)
        statuses = {
            number: drop.tenant.get(f"/data/v1/Order/{number}").json()["data"]["status"]
            for number in ("S-0", "S-11", "S-n")
        }
        assert statuses == {"S-0": "NotSet", "S-11": "Unknown", "S-n": "BackOrder"}
        [error] = drop.tenant.errors(result["resourceId"])
        assert (error["line"], error["field"], error["rule"]) == (5, "Status", "enum")


def test_item_files_for_the_same_orders_at_once(drop: Dropper) -> None:
    """Two item files land together and are imported concurrently: every item is stored,
    and each order's lines are numbered without a gap or a clash."""
    from concurrent.futures import ThreadPoolExecutor

    files = {}
    for part in ("A", "B"):
        rows = [["ordernumber", "sku", "quantity"]]
        rows += [[f"C-{n % 40}", f"{part}-{n}", "1"] for n in range(400)]
        files[f"Listrak_OrderItem_Feed_{ord(part)}.csv"] = csv_bytes(rows)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda item: drop.sftp_put(*item), files.items()))
    for name in files:
        result = drop.wait_import(name)
        assert (result["counts"]["inserted"], result["counts"]["rejected"]) == (400, 0)
    for n in range(40):
        items = drop.tenant.get(f"/data/v1/Order/C-{n}").status_code
        assert items == 404  # no order yet: the items wait for it
    from sqlalchemy import select

    from retailhub.db import session_scope
    from retailhub.models import OrderItem
    from retailhub.models import Tenant as TenantRow

    with session_scope() as session:
        tenant_id = session.scalar(select(TenantRow.id).where(TenantRow.slug == drop.slug))
        lines = session.execute(
            select(OrderItem.order_number, OrderItem.line_no, OrderItem.sku).where(
                OrderItem.tenant_id == tenant_id
            )
        ).all()
    assert len(lines) == 800
    by_order: dict[str, list[int]] = {}
    for number, line_no, _sku in lines:
        by_order.setdefault(number, []).append(line_no)
    assert all(sorted(nums) == list(range(1, 21)) for nums in by_order.values()), by_order


def test_spool_recovery_re_accepts_orphaned_drops(drop: Dropper) -> None:
    """A file moved to the spool by a process that died before recording its import goes
    back to the tenant's folder and is imported, with its source; a copy made by the
    import command is only removed; a recent folder is left to its accept."""
    from retailhub.files import storage
    from retailhub.files.importer import SOURCE_MARK, recover_spool

    def orphan(import_id: str, source: str, name: str) -> Path:
        folder = storage.spool_dir() / drop.slug / import_id
        folder.mkdir(parents=True)
        (folder / SOURCE_MARK).write_text(source)
        (folder / name).write_bytes(GOOD_AND_BAD)
        return folder

    dropped = orphan("0" * 32, "ftp", "Products.csv")
    copied = orphan("1" * 32, "cli", "Listrak_Product_Feed_7.csv")
    recent = orphan("2" * 32, "sftp", "Orders.csv")
    for folder in (dropped, copied):
        os.utime(folder, (0, 0))
    assert recover_spool() == 1
    result = drop.wait_import("Products.csv")
    assert (result["source"], result["counts"]["inserted"]) == ("ftp", 2)
    assert not dropped.exists() and not copied.exists()
    assert drop.imports("Listrak_Product_Feed_7.csv") == []
    assert (recent / "Orders.csv").exists()
    shutil.rmtree(recent)


def test_the_same_content_dropped_twice_at_once_is_imported_once(drop: Dropper) -> None:
    from concurrent.futures import ThreadPoolExecutor

    names = [f"Listrak_Product_Feed_{n}.csv" for n in (1, 2, 3)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda name: drop.sftp_put(name, GOOD_AND_BAD), names))
    results = [drop.wait_import(name) for name in names]
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["duplicate", "duplicate", "partially_failed"]
    assert sum(r["counts"]["inserted"] for r in results) == 2
    assert len(products(drop)) == 2
