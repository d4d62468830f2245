"""Pure parts: body checking, record keys, duplicate detection, report rendering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retailhub.imports.entities import SPECS
from retailhub.imports.issues import field_path, render_value
from retailhub.imports.payload import BodyChecker, MalformedBody
from retailhub.imports.pipeline import Classifier, raw_tokens
from retailhub.imports.records import ADAPTERS
from retailhub.kit.timeutil import iso, to_utc


class TestBodyChecker:
    def test_counts_records_across_chunk_boundaries(self) -> None:
        body = b'[{"sku": "a,]"}, {"sku": "b"}, {"x": [1, {"y": 2}]}]'
        checker = BodyChecker()
        for i in range(0, len(body), 3):
            checker.feed(body[i : i + 3])
        checker.close()
        assert (checker.count, checker.size) == (3, len(body))

    @pytest.mark.parametrize("body", [b"", b"   ", b"{}", b"[", b"[1 2]", b'["\xff"]'])
    def test_rejects(self, body: bytes) -> None:
        checker = BodyChecker()
        with pytest.raises(MalformedBody):
            checker.feed(body)
            checker.close()

    def test_accepts_utf8_bom(self) -> None:
        checker = BodyChecker()
        assert checker.feed(b'\xef\xbb\xbf[{"sku": "a"}]') == b'[{"sku": "a"}]'
        checker.close()
        assert checker.count == 1


class TestKeys:
    def test_raw_tokens_match_validated_keys(self) -> None:
        assert raw_tokens("Product", {"sku": 12}) == (("12",),)
        assert raw_tokens("Product", {"title": "x"}) == ()
        assert raw_tokens("Customer", {"email": " A@B.C ", "customerNumber": ""}) == (
            ("e", "a@b.c"),
        )
        assert raw_tokens("Customer", {"email": "a@b.c", "customerNumber": "7"}) == (
            ("n", "7"),
            ("e", "a@b.c"),
        )
        assert raw_tokens("Review", {"provider": "y", "providerReviewID": 1}) == (("y", "1"),)
        assert raw_tokens("Order", ["not", "a", "dict"]) == ()


class TestClassifier:
    def test_groups_never_repeat_a_key_and_earlier_duplicates_are_warned(self) -> None:
        classifier = Classifier(SPECS["Product"])
        batch = list(enumerate([{"sku": "a"}, {"sku": "b"}, {"sku": "a"}, {}, {"sku": "a"}]))
        out = classifier.classify(batch)
        assert [[p.index for p in g] for g in out.groups] == [[0, 1], [2], [4]]
        assert (out.rejected, out.duplicates) == (1, 2)
        assert [(i.index, i.rule) for i in out.issues] == [
            (0, "duplicate"),
            (3, "required"),
            (2, "duplicate"),
        ]

    def test_a_customer_is_one_key_by_number_or_email(self) -> None:
        classifier = Classifier(SPECS["Customer"])
        batch = list(
            enumerate(
                [
                    {"email": "a@x.io", "customerNumber": "1"},
                    {"email": "B@x.io"},
                    {"email": "a@x.io"},
                ]
            )
        )
        out = classifier.classify(batch)
        assert [[p.index for p in g] for g in out.groups] == [[0, 1], [2]]
        assert out.duplicates == 1


class TestRecords:
    def test_enum_by_name_case_or_code(self) -> None:
        adapter = ADAPTERS["OrderItem"]
        base = {"orderNumber": "1", "sku": "s"}
        assert adapter.validate_python({**base, "status": "canceled"})["status"] == "Canceled"
        assert adapter.validate_python({**base, "status": "10"})["status"] == "Canceled"
        assert adapter.validate_python({**base, "discountType": 6})["discountType"] == "Coupon"

    def test_naive_times_are_eastern(self) -> None:
        summer = to_utc(datetime(2024, 7, 1, 12, 0))
        winter = to_utc(datetime(2024, 1, 1, 12, 0))
        assert (summer.hour, winter.hour) == (16, 17)
        assert iso(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00Z"


class TestRendering:
    def test_field_path(self) -> None:
        assert field_path(("items", 3, "sku")) == "items[3].sku"
        assert field_path(()) == "(record)"

    def test_render_value_truncates(self) -> None:
        assert render_value("x" * 250) == "x" * 200 + "…"
        assert render_value({"a": 1}) == '{"a":1}'
        assert render_value(None) is None
