"""Pure parts of file imports: encodings, file names, delimited and XLSX reading, columns."""

from __future__ import annotations

import codecs
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retailhub.files import decode, reader
from retailhub.files.columns import BOOLEANS, HeaderMap
from retailhub.files.decode import FileRejected, detect, to_utf8
from retailhub.files.names import entity_for, file_format
from retailhub.files.reader import Block, Delimited, LineProblem, Workbook, parse_block
from retailhub.imports.records import ADAPTERS


def _write(tmp_path: Path, data: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rejected(call: Any, *args: Any) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        call(*args)
    return caught.value


@pytest.fixture(params=[decode.BLOCK, 5], ids=["big-blocks", "5-byte-blocks"])
def block_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Runs a decoding test with the real block size and with tiny blocks, so characters,
    shift sequences and errors fall across block boundaries."""
    monkeypatch.setattr(decode, "BLOCK", request.param)
    return int(request.param)


class TestEncodings:
    TEXT = "sku,title\nA1,Café crème\n"

    @pytest.mark.parametrize(
        ("data", "codec"),
        [
            (TEXT.encode("utf-8"), "utf-8"),
            (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
            (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
            (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
            (b"sku,title\nA1,Caf+AOk- cr+AOg-me\n", "utf-7"),
            (b"sku,title\nA1,Caf+AOk cr+AOg-me\n", "utf-7"),  # shift ended by a space
            (b"+/v8-sku,title\nA1,Caf+AOk- cr+AOg-me\n", "utf-7"),  # UTF-7 byte order mark
        ],
        ids=[
            "utf-8",
            "utf-8-bom",
            "utf-16-le",
            "utf-16-be",
            "utf-7",
            "utf-7-implicit",
            "utf-7-bom",
        ],
    )
    def test_detects_and_converts(
        self, tmp_path: Path, block_size: int, data: bytes, codec: str
    ) -> None:
        path = _write(tmp_path, data)
        assert detect(path) == codec
        to_utf8(path, codec, tmp_path / "out.csv")
        assert (tmp_path / "out.csv").read_bytes() == self.TEXT.encode("utf-8")

    @pytest.mark.parametrize(
        "data",
        [
            b"sku,title\nA1,plain ascii\n",
            b"sku,title\nA1,a+b C++\n",
            b"email,phone\njohn+shop@example.com,+17175559636\n",
            b"sku\nA+AOk-\nC++\n",  # a shift sequence, but the file does not decode as UTF-7
        ],
        ids=["ascii", "plus-signs", "email-and-phone", "shift-but-not-utf7"],
    )
    def test_ascii_with_plus_signs_stays_utf8(
        self, tmp_path: Path, block_size: int, data: bytes
    ) -> None:
        assert detect(_write(tmp_path, data)) == "utf-8"

    def test_multibyte_character_across_blocks(self, tmp_path: Path) -> None:
        data = b"sku\n" + "é".encode() * (decode.BLOCK // 2 + 1) + b"\n"
        assert detect(_write(tmp_path, data)) == "utf-8"

    def test_empty_file(self, tmp_path: Path) -> None:
        problem = _rejected(detect, _write(tmp_path, b""))
        assert (problem.rule, problem.message, problem.line) == (
            "empty",
            "The file is empty (0 bytes).",
            None,
        )

    def test_invalid_byte(self, tmp_path: Path, block_size: int) -> None:
        problem = _rejected(detect, _write(tmp_path, b"sku,title\nA1,ok\nA2,caf\xe9\n"))
        assert problem.rule == "encoding"
        assert problem.line == 3
        assert problem.message == (
            "The file is not valid UTF-8: byte 0xE9 at offset 22 (line 3) is not part of a "
            "valid character; " + decode.ACCEPTED + "."
        )

    def test_truncated_character_at_the_end(self, tmp_path: Path, block_size: int) -> None:
        problem = _rejected(detect, _write(tmp_path, b"sku\nA\xc3"))
        assert (problem.rule, problem.line) == ("encoding", 2)
        assert problem.message == (
            "The file is not valid UTF-8: byte 0xC3 at offset 5 (line 2) is not part of a "
            "valid character; " + decode.ACCEPTED + "."
        )

    def test_binary_content(self, tmp_path: Path, block_size: int) -> None:
        problem = _rejected(detect, _write(tmp_path, b"PK\x03\x04\x14\x00\x06\x00"))
        assert (problem.rule, problem.line) == ("binary", 1)
        assert problem.message == (
            "The file is not text: it holds a NUL byte at offset 5 (line 1); "
            + decode.ACCEPTED
            + "."
        )

    def test_invalid_byte_before_a_nul_is_reported_first(self, tmp_path: Path) -> None:
        problem = _rejected(detect, _write(tmp_path, b"a\n\xff\x00"))
        assert (problem.rule, problem.line) == ("encoding", 2)
        assert problem.message.split(";")[0] == (
            "The file is not valid UTF-8: byte 0xFF at offset 2 (line 2) is not part of a "
            "valid character"
        )

    def test_utf16_with_a_lone_surrogate(self, tmp_path: Path, block_size: int) -> None:
        data = codecs.BOM_UTF16_LE + "sku\n".encode("utf-16-le") + b"\x00\xd8" + b"a\x00"
        problem = _rejected(detect, _write(tmp_path, data))
        assert (problem.rule, problem.line) == ("encoding", None)
        assert problem.message == (
            "The file is not valid UTF-16: the bytes at offset 10 do not form a character "
            "(illegal UTF-16 surrogate); " + decode.ACCEPTED + "."
        )

    def test_utf32_is_not_text(self, tmp_path: Path) -> None:
        data = "sku\nA\n".encode("utf-32")  # its mark starts like UTF-16 LE's
        assert _rejected(detect, _write(tmp_path, data)).rule == "binary"

    def test_large_utf16_roundtrip(self, tmp_path: Path) -> None:
        text = "sku,title\n" + "".join(f"A{i},Crème brûlée 🍮 {i}\n" for i in range(50_000))
        path = _write(tmp_path, text.encode("utf-16"))
        assert detect(path) == "utf-16"
        to_utf8(path, "utf-16", tmp_path / "out.csv")
        assert (tmp_path / "out.csv").read_text("utf-8") == text


class TestNames:
    @pytest.mark.parametrize(
        ("name", "entity"),
        [
            ("Listrak_Product_Feed_20240131.csv", "Product"),
            ("Listrak_Order_Feed_2024-01-31.txt", "Order"),
            ("Listrak_OrderItem_Feed_20240131.xlsx", "OrderItem"),
            ("Listrak_Customer_2024-01-31.csv", "Customer"),
            ("LISTRAK_PRODUCT_FEED_1.CSV", "Product"),
            ("listrak_orderitem_feed_2024-01-31-1200.Txt", "OrderItem"),
            ("Products.csv", "Product"),
            ("Orders.txt", "Order"),
            ("OrderItems.xlsx", "OrderItem"),
            ("customers.CSV", "Customer"),
            ("/upload/dir/Products.csv", "Product"),
            ("C:\\exports\\Orders.csv", "Order"),
        ],
    )
    def test_standard_names(self, name: str, entity: str) -> None:
        assert entity_for(name) == entity

    @pytest.mark.parametrize(
        "name",
        [
            "Listrak_Product_Feed.csv",  # no date
            "Listrak_Product_Feed_2024_01_31.csv",  # underscores in the date
            "Listrak_Product_Feed_2024x.csv",
            "Listrak_Customer_Feed_20240131.csv",  # customers have no "_Feed"
            "Listrak_Product_Feed_20240131.json",
            "Listrak_Product_Feed_20240131.csv.part",
            "Products.xls",
            "Product.csv",
            "MyProducts.csv",
            "Products",
            "",
        ],
    )
    def test_unrecognized_names(self, name: str) -> None:
        assert entity_for(name) is None

    def test_mappings_come_first_case_insensitively(self) -> None:
        mappings = [
            ("catalog_*.csv", "Product"),
            ("*_orders.*", "Order"),
            ("products.csv", "Order"),
        ]
        assert entity_for("CATALOG_2024.CSV", mappings) == "Product"
        assert entity_for("shop_orders.xlsx", mappings) == "Order"
        assert entity_for("Products.csv", mappings) == "Order"
        assert entity_for("Customers.csv", mappings) == "Customer"
        assert entity_for("feed.csv", mappings) is None

    def test_mapped_names_still_need_a_known_extension(self) -> None:
        mappings = [("catalog*", "Product")]
        assert entity_for("catalog.json", mappings) is None
        assert entity_for("catalog", mappings) is None
        assert entity_for("catalog.txt", mappings) == "Product"

    def test_mapping_patterns_match_the_whole_name(self) -> None:
        mappings = [("catalog?.csv", "Product"), ("[ab]*.txt", "Customer")]
        assert entity_for("catalog1.csv", mappings) == "Product"
        assert entity_for("catalog12.csv", mappings) is None
        assert entity_for("big.txt", mappings) == "Customer"
        assert entity_for("xbig.txt", mappings) is None

    def test_mapping_entity_names(self) -> None:
        assert entity_for("feed.csv", [("feed.csv", "orderitem")]) == "OrderItem"
        assert entity_for("feed.csv", [("feed.csv", "Review"), ("*.csv", "Customer")]) == (
            "Customer"
        )

    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("a.csv", "delimited"),
            ("a.TXT", "delimited"),
            ("a.xlsx", "xlsx"),
            ("dir/a.XLSX", "xlsx"),
            ("a.xls", None),
            ("a.csv.tmp", None),
            ("csv", None),
        ],
    )
    def test_file_format(self, name: str, kind: str | None) -> None:
        assert file_format(name) == kind


def _read(path: Path, target: int = 1 << 20, skip: int = 0) -> tuple[Delimited, list[Block]]:
    delimited = Delimited.open(path)
    return delimited, list(delimited.blocks(target, skip))


def _parse_all(
    delimited: Delimited, blocks: list[Block]
) -> tuple[list[tuple[int, list[str]]], list[LineProblem]]:
    rows: list[tuple[int, list[str]]] = []
    problems: list[LineProblem] = []
    for block in blocks:
        got, bad = parse_block(
            block.data, block.first_line, delimited.delimiter, len(delimited.header)
        )
        rows.extend(got)
        problems.extend(bad)
    return rows, problems


def _parse_file(
    tmp_path: Path, data: bytes, target: int = 1 << 20
) -> tuple[Delimited, list[tuple[int, list[str]]], list[LineProblem]]:
    delimited, blocks = _read(_write(tmp_path, data), target)
    rows, problems = _parse_all(delimited, blocks)
    return delimited, rows, problems


class TestDelimited:
    @pytest.mark.parametrize("delimiter", [",", "\t", "|"], ids=["comma", "tab", "pipe"])
    def test_delimiters(self, tmp_path: Path, delimiter: str) -> None:
        data = f"sku{delimiter}title{delimiter}price\nA1{delimiter}Top{delimiter}24.99\n".encode()
        delimited, rows, problems = _parse_file(tmp_path, data)
        assert delimited.delimiter == delimiter
        assert delimited.header == ["sku", "title", "price"]
        assert rows == [(2, ["A1", "Top", "24.99"])]
        assert problems == []

    def test_quoted_header_and_delimiters_inside_quotes(self, tmp_path: Path) -> None:
        data = b'"sku"|"title, long"|" Price "\r\nA1|"a, b|c"|24.99\r\n'
        delimited, rows, problems = _parse_file(tmp_path, data)
        assert delimited.delimiter == "|"
        assert delimited.header == ["sku", "title, long", "Price"]
        assert (delimited.data_start, delimited.header_lines) == (31, 1)
        assert rows == [(2, ["A1", "a, b|c", "24.99"])]
        assert problems == []

    def test_sniff_delimiter(self) -> None:
        assert reader.sniff_delimiter("sku,title,price") == ","
        assert reader.sniff_delimiter("sku\ttitle\tprice") == "\t"
        assert reader.sniff_delimiter('"a,b,c"|d|e') == "|"
        assert reader.sniff_delimiter("a,b|c") == ","  # a tie goes to the comma
        assert reader.sniff_delimiter("sku") == ","

    def test_quoted_fields_and_line_numbers(self, tmp_path: Path) -> None:
        data = (
            b"sku,title,description\n"
            b'A1,"Top, blue","He said ""hi"""\n'
            b'A2,"Two\nline title","Three\r\nline\r\ntext"\n'
            b"A3,After,plain\n"
            b'A4,"",""\n'
        )
        _, rows, problems = _parse_file(tmp_path, data)
        assert rows == [
            (2, ["A1", "Top, blue", 'He said "hi"']),
            (3, ["A2", "Two\nline title", "Three\r\nline\r\ntext"]),
            (7, ["A3", "After", "plain"]),
            (8, ["A4", "", ""]),
        ]
        assert problems == []

    def test_blank_lines_are_skipped_but_counted(self, tmp_path: Path) -> None:
        data = b"\n \r\nsku,title\r\n\r\nA1,x\r\n   \t\r\n\nA2,y\r\n\r\n  "
        delimited, blocks = _read(_write(tmp_path, data))
        assert delimited.header_lines == 3
        assert [(b.first_line, b.records) for b in blocks] == [(5, 2)]
        rows, problems = _parse_all(delimited, blocks)
        assert rows == [(5, ["A1", "x"]), (8, ["A2", "y"])]
        assert problems == []

    def test_ragged_rows(self, tmp_path: Path) -> None:
        data = b"sku,title,price\nA1,x\nA2,x,1,extra\nA3,x,2\nA4,x,3,\n"
        _, rows, problems = _parse_file(tmp_path, data)
        assert rows == [(4, ["A3", "x", "2"])]
        assert problems == [
            LineProblem(2, "columns", "Expected 3 columns, as in the header; found 2."),
            LineProblem(3, "columns", "Expected 3 columns, as in the header; found 4."),
            LineProblem(5, "columns", "Expected 3 columns, as in the header; found 4."),
        ]

    def test_unterminated_quote_mid_file(self, tmp_path: Path) -> None:
        # The quote opened on line 3 pairs with the odd quote of line 6, but lines 3 to 6
        # do not read as one record: each line is read on its own, the good ones kept.
        data = b'sku,title\nA1,x\nA2,"never closed\nA3,y\nA4,"z"\nA5,"w\nA6,v\n'
        _, rows, problems = _parse_file(tmp_path, data)
        assert rows == [(2, ["A1", "x"]), (4, ["A3", "y"]), (5, ["A4", "z"]), (7, ["A6", "v"])]
        assert problems == [
            LineProblem(3, "quote", "The quote opened on line 3 is never closed."),
            LineProblem(6, "quote", "The quote opened on line 6 is never closed."),
        ]

    def test_unterminated_quote_at_the_end(self, tmp_path: Path) -> None:
        data = b'sku,title\nA1,x\nA2,"open\nstill open, y\n'
        delimited, blocks = _read(_write(tmp_path, data), target=1)
        assert [(b.first_line, b.records, b.data) for b in blocks] == [
            (2, 1, b"A1,x\n"),
            (3, 1, b'A2,"open\nstill open, y\n'),
        ]
        rows, problems = _parse_all(delimited, blocks)
        assert rows == [(2, ["A1", "x"])]
        assert problems == [LineProblem(3, "quote", "The quote opened on line 3 is never closed.")]

    def test_text_after_a_closing_quote(self, tmp_path: Path) -> None:
        data = b'sku,title\nA1,"x"y\nA2,z\n'
        _, rows, problems = _parse_file(tmp_path, data)
        assert rows == [(3, ["A2", "z"])]
        assert problems == [
            LineProblem(
                2,
                "csv",
                "Text follows a closing quote; a quoted field must end with the quote, then the "
                'delimiter or the end of the line (write a quote inside a quoted field as "").',
            )
        ]

    def test_stray_quotes_in_unquoted_fields(self, tmp_path: Path) -> None:
        data = b'sku,size\nA1,6 7/8"\nA2,M\nA3,7"\nA4,"quoted"\n'
        delimited, blocks = _read(_write(tmp_path, data))
        assert [b.records for b in blocks] == [2]  # A1 to A3 pair up as one record
        rows, problems = _parse_all(delimited, blocks)
        assert rows == [
            (2, ["A1", '6 7/8"']),
            (3, ["A2", "M"]),
            (4, ["A3", '7"']),
            (5, ["A4", "quoted"]),
        ]
        assert problems == []

    def test_quote_open_longer_than_max_record(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(reader, "MAX_RECORD", 24)
        data = b'sku,title\nA1,"open\nA2,x\nA3,y\nA4,z\nA5,"\n'
        _, rows, problems = _parse_file(tmp_path, data, target=1)
        assert rows == [(3, ["A2", "x"]), (4, ["A3", "y"]), (5, ["A4", "z"])]
        assert problems == [
            LineProblem(2, "quote", "The quote opened on line 2 is never closed."),
            LineProblem(6, "quote", "The quote opened on line 6 is never closed."),
        ]

    def test_line_longer_than_max_record(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(reader, "MAX_RECORD", 16)
        monkeypatch.setattr(reader, "READ", 8)
        path = _write(tmp_path, b"sku,title\nA1,x\nA2," + b"y" * 100 + b"\n")
        delimited = Delimited.open(path)
        problem = _rejected(lambda: list(delimited.blocks(4)))
        assert (problem.rule, problem.line) == ("lineLength", 3)
        assert problem.message == "Line 3 is longer than 16 bytes."

    @pytest.mark.parametrize(
        "data",
        [b"sku,title\n", b"sku,title", b"\nsku,title\r\n\r\n  \n"],
        ids=["nl", "no-nl", "blank"],
    )
    def test_header_only(self, tmp_path: Path, data: bytes) -> None:
        delimited, rows, problems = _parse_file(tmp_path, data)
        assert delimited.header == ["sku", "title"]
        assert (rows, problems) == ([], [])
        assert list(delimited.blocks(1, skip=3)) == []

    def test_utf8_bom_before_the_header(self, tmp_path: Path) -> None:
        delimited, rows, _ = _parse_file(tmp_path, b"\xef\xbb\xbfsku,title\nA1,x\n")
        assert delimited.header == ["sku", "title"]
        assert delimited.data_start == 13
        assert rows == [(2, ["A1", "x"])]

    def test_last_record_without_newline(self, tmp_path: Path) -> None:
        _, rows, _ = _parse_file(tmp_path, b"sku,title\r\nA1,x\r\nA2,y")
        assert rows == [(2, ["A1", "x"]), (3, ["A2", "y"])]

    @pytest.mark.parametrize(
        ("data", "rule", "message", "line"),
        [
            (b"", "empty", "The file is empty (0 bytes).", None),
            (
                b"\n \r\n\n",
                "empty",
                "The file has only blank lines: a header row is required.",
                None,
            ),
            (
                b"sku,Title, SKU \nA1,x,y\n",
                "duplicateHeader",
                'The header row names the column "SKU" twice; each column must have its own name.',
                1,
            ),
            (b",, \n1,2,3\n", "header", "The header row has no column names.", 1),
            (
                b'\nsku,"title\nA1,x\n',
                "quote",
                "The header row (line 2) has a quote that is never closed.",
                2,
            ),
            (
                b"sku,title\rA1,x\rA2,y\r",
                "lineEnding",
                "Lines end with a carriage return (CR) alone; end them with LF or CRLF.",
                1,
            ),
        ],
        ids=["empty", "blank-lines", "duplicate", "no-names", "open-quote", "cr-only"],
    )
    def test_rejected_headers(
        self, tmp_path: Path, data: bytes, rule: str, message: str, line: int | None
    ) -> None:
        problem = _rejected(Delimited.open, _write(tmp_path, data))
        assert (problem.rule, problem.message, problem.line) == (rule, message, line)

    def test_quoted_header_with_a_line_break(self, tmp_path: Path) -> None:
        delimited, rows, _ = _parse_file(tmp_path, b'sku,"long\ntitle"\nA1,x\n')
        assert delimited.header == ["sku", "long\ntitle"]
        assert delimited.header_lines == 2
        assert rows == [(3, ["A1", "x"])]


def _product_csv(rows: int) -> bytes:
    lines = [b"sku,title,description"]
    for i in range(rows):
        if i % 7 == 3:
            lines.append(f'S{i},"multi\nline {i}","say ""{i}"""'.encode())
        elif i % 11 == 5:
            lines.append(b"   ")
        else:
            lines.append(f"S{i},Title {i},plain".encode())
    return b"\r\n".join(lines) + b"\r\n"


class TestBlocks:
    def test_small_blocks_hold_whole_records(self, tmp_path: Path) -> None:
        path = _write(tmp_path, _product_csv(60))
        delimited, whole = _read(path)
        assert len(whole) == 1
        expected = _parse_all(delimited, whole)
        assert len(expected[0]) == 56 and expected[1] == []
        for target in (1, 2, 17, 64, 300):
            _, blocks = _read(path, target)
            assert len(blocks) > 1
            assert sum(block.records for block in blocks) == whole[0].records == 56
            assert all(len(block.data) >= target for block in blocks[:-1])
            assert _parse_all(delimited, blocks) == expected

    @pytest.mark.parametrize("target", [1, 40, 200])
    def test_skip_resumes_at_a_block_boundary(self, tmp_path: Path, target: int) -> None:
        path = _write(tmp_path, _product_csv(60))
        _, blocks = _read(path, target)
        done = 0
        for index, block in enumerate(blocks):
            assert _read(path, target, skip=done)[1] == blocks[index:]
            done += block.records
        assert _read(path, target, skip=done)[1] == []

    def test_skip_any_number_of_records(self, tmp_path: Path) -> None:
        path = _write(tmp_path, _product_csv(60))
        delimited, whole = _read(path)
        rows, _ = _parse_all(delimited, whole)
        for skip in range(0, 58):
            _, blocks = _read(path, 50, skip)
            assert sum(block.records for block in blocks) == max(56 - skip, 0)
            assert _parse_all(delimited, blocks)[0] == rows[skip:]

    def test_first_line_skips_leading_blank_lines(self, tmp_path: Path) -> None:
        path = _write(tmp_path, b"sku\nA\n\n\n  \nB\n\nC\n")
        _, blocks = _read(path, 1)
        assert [(b.first_line, b.records, b.data) for b in blocks] == [
            (2, 1, b"A\n"),
            (6, 1, b"B\n"),
            (8, 1, b"C\n"),
        ]


_TOKENS = st.sampled_from(["a", "b,", ",", '"', '""', "\n", "\r\n", "\r", " ", "x|y", "\t", "é"])


@settings(max_examples=150, deadline=None, database=None)
@given(
    body=st.lists(_TOKENS, max_size=60).map("".join),
    targets=st.lists(st.integers(1, 40), min_size=1, max_size=3),
    max_record=st.sampled_from([reader.MAX_RECORD, 12]),
)
def test_blocks_agree_with_a_single_block(body: str, targets: list[int], max_record: int) -> None:
    """However a file is cut into blocks, and wherever a resumed run starts, parsing the
    blocks gives what parsing the whole data gives."""
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
        patch.setattr(reader, "MAX_RECORD", max_record)
        path = Path(folder) / "f.csv"
        path.write_bytes(b"h1,h2\n" + body.encode())
        delimited, whole = _read(path, 1 << 30)
        expected = _parse_all(delimited, whole)
        total = sum(block.records for block in whole)
        for target in targets:
            try:
                blocks = list(delimited.blocks(target))
                assert sum(block.records for block in blocks) == total
                assert _parse_all(delimited, blocks) == expected
                done = 0
                for index, block in enumerate(blocks):
                    assert list(delimited.blocks(target, skip=done)) == blocks[index:]
                    done += block.records
            except FileRejected as problem:
                # A line longer than MAX_RECORD where a block should end.
                assert (problem.rule, max_record) == ("lineLength", 12)


def _workbook(tmp_path: Path, rows: list[tuple[int, list[Any]]], name: str = "w.xlsx") -> Path:
    xlsxwriter = pytest.importorskip("xlsxwriter")  # a development dependency
    path = tmp_path / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Products")
    formats = {
        dt.datetime: book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        dt.date: book.add_format({"num_format": "yyyy-mm-dd"}),
        dt.time: book.add_format({"num_format": "hh:mm:ss"}),
    }
    for row, values in rows:
        for column, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, dt.datetime | dt.date | dt.time):
                sheet.write_datetime(row, column, value, formats[type(value)])
            else:
                sheet.write(row, column, value)
    book.add_worksheet("Other").write(0, 0, "ignored")
    book.close()
    return path


class TestWorkbook:
    def test_cells_as_text(self, tmp_path: Path) -> None:
        path = _workbook(
            tmp_path,
            [
                (1, ["sku", "price", "qoh", "instock", "salestartdate", "birthday", "at", "x"]),
                (
                    2,
                    [
                        "A1",
                        24.99,
                        45,
                        True,
                        dt.datetime(2018, 8, 23, 17, 23, 48),
                        dt.date(2018, 8, 23),
                        dt.time(7, 5, 1),
                        " keep spaces ",
                    ],
                ),
                (3, [None, None, None]),
                (4, ["A2", 1e20, -3.0, False, None, None, None, 0.1]),
                (5, ["A3"]),
            ],
        )
        book = Workbook.open(path)
        assert book.header == [
            "sku",
            "price",
            "qoh",
            "instock",
            "salestartdate",
            "birthday",
            "at",
            "x",
        ]
        assert book.header_row == 2
        assert list(book.rows()) == [
            (
                3,
                [
                    "A1",
                    "24.99",
                    "45",
                    "true",
                    "2018-08-23T17:23:48",
                    "2018-08-23",
                    "07:05:01",
                    " keep spaces ",
                ],
            ),
            (5, ["A2", "100000000000000000000", "-3", "false", "", "", "", "0.1"]),
            (6, ["A3", "", "", "", "", "", "", ""]),
        ]
        assert list(book.rows(skip=2)) == [(6, ["A3", "", "", "", "", "", "", ""])]
        assert list(book.rows(skip=5)) == []

    def test_cells_right_of_the_header_are_ignored(self, tmp_path: Path) -> None:
        path = _workbook(tmp_path, [(0, ["sku", "title", None]), (1, ["A1", "x", "stray"])])
        book = Workbook.open(path)
        assert book.header == ["sku", "title"]
        assert list(book.rows()) == [(2, ["A1", "x"])]

    def test_duplicate_header(self, tmp_path: Path) -> None:
        path = _workbook(tmp_path, [(3, ["sku", "Title", "title "])])
        problem = _rejected(Workbook.open, path)
        assert (problem.rule, problem.line) == ("duplicateHeader", 4)
        assert problem.message == (
            'The header row names the column "title" twice; each column must have its own name.'
        )

    def test_empty_workbook(self, tmp_path: Path) -> None:
        path = _workbook(tmp_path, [])
        problem = _rejected(Workbook.open, path)
        assert (problem.rule, problem.message) == (
            "empty",
            "The first sheet of the workbook is empty.",
        )

    @pytest.mark.parametrize("data", [b"sku,title\nA1,x\n", b"PK\x03\x04broken"])
    def test_not_a_workbook(self, tmp_path: Path, data: bytes) -> None:
        problem = _rejected(Workbook.open, _write(tmp_path, data, "f.xlsx"))
        assert problem.rule == "format"
        assert problem.message.startswith("The file is not a readable .xlsx workbook (")


def _map(entity: str, header: list[str], *rows: list[str]) -> list[dict[str, Any]]:
    columns = HeaderMap.build(entity, header)
    return [columns.record(row) for row in rows]


class TestHeaderMap:
    def test_names_in_any_case_and_spelling(self) -> None:
        header = ["SKU", " ImageURL ", "Sub Category", "review_url", "\ufeffreviewProductID", "QOH"]
        columns = HeaderMap.build("Product", header)
        assert columns.header == [
            "SKU",
            "ImageURL",
            "Sub Category",
            "review_url",
            "reviewProductID",
            "QOH",
        ]
        assert columns.unknown == []
        assert columns.width == 6
        assert columns.record(["A1", "http://i", "Tops", "http://r", "40245", "45"]) == {
            "sku": "A1",
            "imageUrl": "http://i",
            "subCategory": "Tops",
            "reviewURL": "http://r",
            "reviewProductID": "40245",
            "qoh": "45",
        }

    def test_2015_product_columns(self) -> None:
        header = [
            "Sku",
            "Title",
            "ImageUrl",
            "LinkUrl",
            "Description",
            "Price",
            "Brand",
            "Category",
            "SubCategory",
            "SalePrice",
            "SaleStartDate",
            "SaleEndDate",
            "OnSale",
            "IsClearance",
            "IsOutlet",
            "QOH",
            "InStock",
            "MasterSku",
            "ReviewProductID",
            "ReviewUrl",
            "Discontinued",
            "Size",
            "Color",
            "Style",
            "Gender",
            "MSRP",
            "Meta1",
            "Meta2",
            "Meta3",
            "Meta4",
            "Meta5",
        ]
        columns = HeaderMap.build("Product", header)
        assert columns.unknown == []
        assert sorted(columns.fields) == sorted(
            [
                "sku", "title", "imageUrl", "linkUrl", "description", "price", "brand",
                "category", "subCategory", "salePrice", "saleStartDate", "saleEndDate",
                "onSale", "isClearance", "isOutlet", "qoh", "inStock", "masterSku",
                "reviewProductID", "reviewURL", "discontinued", "size", "color", "style",
                "gender", "msrp", "meta1", "meta2", "meta3", "meta4", "meta5",
            ]
        )  # fmt: skip

    def test_2015_order_item_and_customer_columns(self) -> None:
        order = HeaderMap.build(
            "Order",
            [
                "Email",
                "OrderNumber",
                "DateEntered",
                "OrderTotal",
                "ItemTotal",
                "TaxTotal",
                "ShippingTotal",
                "HandlingTotal",
                "Status",
                "ShipDate",
                "TrackingNumber",
                "ShippingMethod",
                "CouponCode",
                "DiscountTotal",
                "Source",
                "Meta1",
            ],
        )
        assert order.unknown == []
        item = HeaderMap.build(
            "OrderItem",
            [
                "OrderNumber",
                "Sku",
                "Quantity",
                "Price",
                "Status",
                "ShipDate",
                "TrackingNumber",
                "ShippingMethod",
                "DiscountedPrice",
                "ItemTotal",
                "Meta5",
            ],
        )
        assert item.unknown == []
        customer = HeaderMap.build(
            "Customer",
            [
                "Email",
                "FirstName",
                "LastName",
                "Gender",
                "Birthday",
                "ZipCode",
                "CustomerNumber",
                "Registered",
                "mobilephone",
                "preferredstorenumber",
            ],
        )
        assert customer.unknown == []
        assert customer.record(
            ["a@b.c", "Ann", "Lee", "F", "1990-01-02", "17543", "C1", "Yes", "1717", "S9"]
        ) == {
            "email": "a@b.c",
            "firstName": "Ann",
            "lastName": "Lee",
            "gender": "F",
            "birthday": "1990-01-02",
            "zipCode": "17543",
            "customerNumber": "C1",
            "registered": True,
            "mobilePhone": "1717",
            "preferredStoreNumber": "S9",
        }

    def test_unknown_columns(self) -> None:
        columns = HeaderMap.build(
            "Order", ["ordernumber", "Variant", "", "items", "billingAddress", "status"]
        )
        assert columns.unknown == ["Variant", "column 3 (no name)", "items", "billingAddress"]
        assert columns.width == 6
        assert columns.has("orderNumber") and columns.has("status")
        assert not columns.has("items")
        assert columns.record(["O1", "v", "x", "[]", "b", "Shipped"]) == {
            "orderNumber": "O1",
            "status": "Shipped",
        }

    def test_values_are_stripped_and_empty_ones_left_out(self) -> None:
        assert _map("Product", ["sku", "title", "price", "meta1"], [" A1 ", "  ", "", "null"]) == [
            {"sku": "A1", "meta1": "null"}
        ]

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("true", True),
            ("TRUE", True),
            ("True", True),
            ("1", True),
            ("y", True),
            ("Y", True),
            ("yes", True),
            ("YES", True),
            ("false", False),
            ("False", False),
            ("0", False),
            ("n", False),
            ("N", False),
            ("no", False),
            ("No", False),
            ("null", None),
            ("NULL", None),
            (" yes ", True),
            ("maybe", "maybe"),
            ("2", "2"),
        ],
    )
    def test_booleans(self, text: str, value: bool | str | None) -> None:
        header = ["sku", "instock", "onsale", "discontinued", "ispurchasable", "isclearance"]
        header += ["isoutlet", "isviewable"]
        (record,) = _map("Product", header, ["A1"] + [text] * 7)
        assert record == {
            "sku": "A1",
            "inStock": value,
            "onSale": value,
            "discontinued": value,
            "isPurchasable": value,
            "isClearance": value,
            "isOutlet": value,
            "isViewable": value,
        }
        assert set(BOOLEANS) == {"true", "false", "1", "0", "y", "n", "yes", "no", "null"}

    def test_related_products(self) -> None:
        header = ["sku", "related_sku2", "related_type2", "related_rank2", "Related_SKU_1"]
        header += ["Related_Type_1", "related_sku10", "related_rank10", "related_sku3"]
        columns = HeaderMap.build("Product", header)
        assert columns.unknown == []
        assert columns.has("relatedProducts")
        assert columns.record(["A1", "B2", "Similar", "2", "B1", "Cross-sell", "", "7", " "]) == {
            "sku": "A1",
            "relatedProducts": [
                {"sku": "B1", "type": "Cross-sell"},
                {"sku": "B2", "type": "Similar", "rank": "2"},
                {"rank": "7"},
            ],
        }
        assert columns.record(["A2", "", "", "", "", "", "", "", ""]) == {"sku": "A2"}
        assert columns.sources == {
            "sku": "sku",
            "relatedProducts[2].sku": "related_sku2",
            "relatedProducts[2].type": "related_type2",
            "relatedProducts[2].rank": "related_rank2",
            "relatedProducts[1].sku": "Related_SKU_1",
            "relatedProducts[1].type": "Related_Type_1",
            "relatedProducts[10].sku": "related_sku10",
            "relatedProducts[10].rank": "related_rank10",
            "relatedProducts[3].sku": "related_sku3",
        }

    def test_related_columns_only_for_products(self) -> None:
        columns = HeaderMap.build("OrderItem", ["sku", "related_sku1", "related_sku0"])
        assert columns.unknown == ["related_sku1", "related_sku0"]
        assert HeaderMap.build("Product", ["sku", "related_sku0"]).unknown == ["related_sku0"]

    @pytest.mark.parametrize("entity", ["Order", "OrderItem"])
    def test_alternate_order_number(self, entity: str) -> None:
        header = ["ordernumber", "AlternateOrderNumber", "sku"]
        assert _map(entity, header, ["O1", "ALT1", "S"], ["", "ALT2", "S"], [" ", "", "S"]) == [
            {"orderNumber": "O1", "sku": "S"} if entity == "OrderItem" else {"orderNumber": "O1"},
            {"orderNumber": "ALT2", "sku": "S"}
            if entity == "OrderItem"
            else {"orderNumber": "ALT2"},
            {"sku": "S"} if entity == "OrderItem" else {},
        ]
        only = HeaderMap.build(entity, ["alternateordernumber"])
        assert only.has("orderNumber")
        assert only.sources == {"alternateOrderNumber": "alternateordernumber"}
        assert only.record(["ALT3"]) == {"orderNumber": "ALT3"}

    def test_customer_address_and_nested_objects(self) -> None:
        header = ["email", "Address1", "address2", "City", "state", "Country", "zipcode"]
        header += ["availablepoints", "ActiveLoyaltyMember", "facebookID"]
        columns = HeaderMap.build("Customer", header)
        assert columns.unknown == []
        assert columns.has("address") and columns.has("loyalty") and columns.has("social")
        assert columns.sources == {
            "email": "email",
            "address.address1": "Address1",
            "address.address2": "address2",
            "address.city": "City",
            "address.state": "state",
            "address.country": "Country",
            "zipCode": "zipcode",
            "loyalty.availablePoints": "availablepoints",
            "loyalty.activeLoyaltyMember": "ActiveLoyaltyMember",
            "social.facebookID": "facebookID",
        }
        record = columns.record(
            ["a@b.c", "1 Main St", "", "Lancaster", "PA", "US", "17601", "120", "Y", "fb1"]
        )
        assert record == {
            "email": "a@b.c",
            "zipCode": "17601",
            "address": {
                "address1": "1 Main St",
                "city": "Lancaster",
                "state": "PA",
                "country": "US",
            },
            "loyalty": {"availablePoints": "120", "activeLoyaltyMember": True},
            "social": {"facebookID": "fb1"},
        }
        assert columns.record(["a@b.c", "", "", "", "", "", "", "", "", ""]) == {"email": "a@b.c"}

    def test_two_columns_for_one_field(self) -> None:
        problem = _rejected(HeaderMap.build, "Product", ["sku", "Image URL", "imageurl"])
        assert (problem.rule, problem.line) == ("duplicateHeader", None)
        assert problem.message == (
            'Columns "Image URL" and "imageurl" both give the field imageUrl; keep one of them.'
        )

    def test_records_pass_the_rest_validation(self) -> None:
        (product,) = _map(
            "Product",
            ["sku", "price", "qoh", "instock", "onsale", "related_sku1", "related_rank1"],
            ["A1", "24.99", "45", "null", "Yes", "B1", "1"],
        )
        assert ADAPTERS["Product"].validate_python(product) == {
            "sku": "A1",
            "price": 24.99,
            "qoh": 45,
            "inStock": None,
            "onSale": True,
            "relatedProducts": [{"sku": "B1", "rank": 1}],
        }
        (customer,) = _map("Customer", ["email", "city", "registered"], ["a@b.c", "York", "n"])
        assert ADAPTERS["Customer"].validate_python(customer) == {
            "email": "a@b.c",
            "address": {"city": "York"},
            "registered": False,
        }
