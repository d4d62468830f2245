"""Pure parts: body checking, record keys, duplicate detection, report rendering."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from retailhub.imports.entities import SPECS
from retailhub.imports.issues import field_path, render_value
from retailhub.imports.payload import MalformedBody, check_start, iter_lines, normalize
from retailhub.imports.pipeline import Classifier, SeenKeys, check_records
from retailhub.imports.records import ADAPTERS
from retailhub.kit.timeutil import iso, to_utc


def _normalize(body: bytes) -> bytes:
    out = io.BytesIO()
    normalize(io.BytesIO(body), out)
    return out.getvalue()


class TestNormalize:
    def test_records_become_json_lines(self) -> None:
        body = b'[{"sku": "a,]"}, {"sku": "b"},\n {"x": [1, {"y": 2.5}]}]'
        out, lines = io.BytesIO(), io.BytesIO()
        assert normalize(io.BytesIO(body), out) == 3
        lines = out.getvalue()
        assert list(iter_lines([lines[:7], lines[7:]])) == [
            {"sku": "a,]"},
            {"sku": "b"},
            {"x": [1, {"y": 2.5}]},
        ]

    def test_integers_beyond_64_bits_are_refused_clearly(self) -> None:
        with pytest.raises(MalformedBody, match="number too large"):
            _normalize(b'[{"qoh": 123456789012345678901234567890}]')

    @pytest.mark.parametrize("body", [b"", b"   ", b"{}", b"[", b"[1 2]", b'["\xff"]', b"[] x"])
    def test_rejects(self, body: bytes) -> None:
        with pytest.raises(MalformedBody):
            _normalize(body)

    def test_long_leading_whitespace(self) -> None:
        assert _normalize(b" " * 100_000 + b'[{"sku": "a"}]') == b'{"sku":"a"}\n'

    def test_message_does_not_echo_the_body(self) -> None:
        with pytest.raises(MalformedBody) as caught:
            _normalize(b'[{"sku": "\xff secret"}]')
        assert "secret" not in str(caught.value)
        assert "b'" not in str(caught.value)

    def test_accepts_utf8_bom(self) -> None:
        assert _normalize(b'\xef\xbb\xbf[{"sku": "a"}]') == b'{"sku":"a"}\n'

    def test_start_check(self) -> None:
        assert check_start(b"  \n") is None
        assert check_start(b"\xef\xbb\xbf [") is True
        assert check_start(b' {"a": 1}') is False


class TestResume:
    def test_a_resumed_run_warns_as_the_uninterrupted_one(self) -> None:
        first = [(0, {"sku": "a", "gender": "Q"}), (1, {"sku": "b"}), (2, {"sku": 7})]
        second = [(3, {"sku": "a"}), (4, {"sku": "b"}), (5, {"sku": "7"})]
        whole = Classifier(SPECS["Product"])
        whole.classify(first)
        expected = whole.classify(second)
        resumed = Classifier(SPECS["Product"])
        resumed.observe_written(first)  # what an earlier run of the import wrote
        got = resumed.classify(second)
        # Line 0 was rejected: the later "a" supersedes nothing.
        assert (got.duplicates, expected.duplicates) == (2, 2)
        assert [(i.index, i.rule) for i in got.issues] == [(1, "duplicate"), (2, "duplicate")]
        assert [(i.index, i.rule) for i in got.issues] == [
            (i.index, i.rule) for i in expected.issues
        ]


class TestClassifier:
    def test_groups_never_repeat_a_key_and_earlier_duplicates_are_warned(self) -> None:
        classifier = Classifier(SPECS["Product"])
        batch = list(enumerate([{"sku": "a"}, {"sku": "b"}, {"sku": "a"}, {}, {"sku": "a"}]))
        out = classifier.classify(batch)
        assert [[p.index for p in g] for g in out.groups] == [[0, 1], [2], [4]]
        assert (out.rejected, out.duplicates) == (1, 2)
        assert [(i.index, i.rule) for i in out.issues] == [
            (3, "required"),
            (0, "duplicate"),
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


class TestSeenKeys:
    def test_spills_to_a_temporary_file_and_cleans_up(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(SeenKeys, "IN_MEMORY", 3)
        tmp_path = tmp_path / "not-yet-made"
        seen = SeenKeys(str(tmp_path))
        seen.update({1: 10, 2: 20})
        assert not tmp_path.exists()
        seen.update({3: 30, 4: 40, 2: 21})
        assert len(list(tmp_path.iterdir())) == 1  # spilled
        seen.update({5: 50})
        assert seen.lookup([1, 2, 5, 99]) == {1: 10, 2: 21, 5: 50}
        seen.close()
        assert list(tmp_path.iterdir()) == []

    def test_classifier_memory_is_bounded(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(SeenKeys, "IN_MEMORY", 100)
        classifier = Classifier(SPECS["Product"], spill_dir=str(tmp_path))
        for start in range(0, 1000, 250):
            classifier.sequence(
                check_records("Product", [(i, {"sku": f"S{i}"}) for i in range(start, start + 250)])
            )
        out = classifier.sequence(check_records("Product", [(1000, {"sku": "S7"})]))
        assert [(i.index, i.rule) for i in out.issues] == [(7, "duplicate")]
        assert len(classifier.seen._memory) <= 100
        classifier.close()


class TestRatingSummaryKeys:
    def test_keys_are_per_summary_entry(self) -> None:
        def record(product: str, *ids: str) -> dict[str, object]:
            return {
                "provider": "Y",
                "providerProductID": product,
                "ratingSummaries": [{"providerRatingSummaryID": i, "rating": 4} for i in ids],
            }

        classifier = Classifier(SPECS["RatingSummary"])
        batch = [(0, record("P", "a")), (1, record("P", "b")), (2, record("P", "a", "a"))]
        out = classifier.sequence(check_records("RatingSummary", batch))
        assert [(i.index, i.field, i.rule) for i in out.issues] == [
            (2, "ratingSummaries", "duplicate"),
            (0, "provider/providerProductID", "duplicate"),
        ]
        assert out.duplicates == 1
