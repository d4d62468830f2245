"""Reading import files: delimited text (``.csv``, ``.txt``) and ``.xlsx`` workbooks.

Delimited files (UTF-8 by now: ``decode.to_utf8`` converted the others) have a header row,
fields separated by a comma, a tab or a pipe, and ``"`` as text qualifier (a quote inside a
quoted field is written twice). They are read in two steps so the parsing can run in other
processes: ``Delimited.blocks`` cuts the data into blocks of whole records, quickly and
without parsing, and ``parse_block`` parses one block.

How records are found (the same rule in both steps, so a block always holds whole records
and ``Block.records`` counts what ``parse_block`` sees):

- a record ends at the end of a physical line, unless a quote is still open there: a line
  with an odd number of ``"`` opens a quote, and the next line with an odd number closes it
  (a quoted field may hold line breaks);
- a quote still open at the end of the file makes one record of everything from its line
  to the end (``parse_block`` reports it); a quote not closed within ``MAX_RECORD`` bytes
  leaves its line a record alone (reported too), and the next line starts afresh, so that a
  stray quote cannot make a block grow without bound;
- lines of nothing but spaces, tabs and carriage returns are blank: not records, though they
  count for line numbers.

``skip`` values given to ``blocks`` and progress kept by a caller count ``Block.records``.
``parse_block`` may return more rows than that: when lines paired by stray quotes
(``6 7/8"`` in an unquoted field) do not parse as one record but each reads cleanly on its
own, each is a row.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from retailhub.files.decode import FileRejected

DELIMITERS = (",", "\t", "|")
# Longest record (quoted fields with line breaks) and longest line accepted, in bytes.
MAX_RECORD = 1 << 20
READ = 1 << 20
_BLANK = b" \t\r"
_KEEP_QUOTES_AND_NEWLINES = bytes(b for b in range(256) if b not in b'"\n')
_LEADING_BLANKS = re.compile(rb"(?:[ \t\r]*\n)*")
_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")
_BEFORE_BLANK = re.compile(rb"\n(?=[ \t\r]*\n)")
_QUOTED = re.compile(r'"[^"]*"')


@dataclass(frozen=True, slots=True)
class Block:
    """Whole records of a delimited file: ``data`` (UTF-8, from the first record's first
    byte; may hold blank lines), ``first_line`` (1-based line of the first record) and the
    number of ``records`` in it."""

    first_line: int
    records: int
    data: bytes


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A record that could not be read (rule ``columns``, ``quote`` or ``csv``)."""

    line: int
    rule: str
    message: str


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a file from its header line: whichever of comma, tab and pipe occurs
    most outside quotes (comma on a tie or when there is none)."""
    bare = _QUOTED.sub("", header_line)
    return max(DELIMITERS, key=bare.count)


def check_header(header: list[str], line: int = 1) -> list[str]:
    """The column names (stripped of spaces and a byte order mark) of the header on ``line``;
    raises FileRejected when there are none or when two are the same, ignoring case."""
    names = [cell.replace("\ufeff", "").strip() for cell in header]
    if not any(names):
        raise FileRejected("header", "The header row has no column names.", line)
    seen: dict[str, str] = {}
    for name in names:
        key = name.lower()
        if not key:
            continue
        if key in seen:
            raise FileRejected(
                "duplicateHeader",
                f'The header row names the column "{name}" twice; each column must have its '
                "own name.",
                line,
            )
        seen[key] = name
    return names


def _is_open(line: bytes) -> bool:
    return bool(line.count(b'"') & 1)


def _spans(lines: list[bytes], more: bool) -> list[tuple[int, int]]:
    """The records in ``lines`` (physical lines, without their ``\\n``) as (first, last)
    line indexes, blank lines left out. A quote not closed within MAX_RECORD leaves its line
    a record alone; one still open at the end of ``lines`` runs to the end, or, when
    ``more`` (data follows), is undecided: the records stop before it."""
    spans: list[tuple[int, int]] = []
    count = len(lines)
    index = 0
    while index < count:
        line = lines[index]
        if not _is_open(line):
            if line.strip(_BLANK):
                spans.append((index, index))
            index += 1
            continue
        size = len(line) + 1
        close = index + 1
        while close < count:
            size += len(lines[close]) + 1
            if size > MAX_RECORD or _is_open(lines[close]):
                break
            close += 1
        if size > MAX_RECORD:
            spans.append((index, index))
            index += 1
        elif close < count:
            spans.append((index, close))
            index = close + 1
        elif more:
            break
        else:
            spans.append((index, count - 1))
            index = count
    return spans


def _marks(data: bytes) -> tuple[int, bool]:
    """The number of newlines in ``data`` and whether some line has an odd number of quotes,
    without a loop in Python: keep only quotes and newlines, then drop pairs of quotes (each
    line's quotes are adjacent once the rest is gone)."""
    marks = data.translate(None, _KEEP_QUOTES_AND_NEWLINES)
    return marks.count(b"\n"), b'"' in marks.replace(b'""', b"")


class Delimited:
    """A delimited file, header read. Open with ``Delimited.open``."""

    def __init__(
        self, path: Path, header: list[str], delimiter: str, data_start: int, header_lines: int
    ) -> None:
        self.path = path
        self.header = header
        self.delimiter = delimiter
        self.data_start = data_start
        self.header_lines = header_lines

    @classmethod
    def open(cls, path: str | Path) -> Delimited:
        """Read the header of the UTF-8 file at ``path`` (its first non-blank record). Raises
        FileRejected: ``empty`` (no bytes, or blank lines only), ``quote`` (a quote in the
        header never closed), ``header``/``duplicateHeader`` (no names, a name twice),
        ``lineEnding`` (lines ended by a carriage return alone)."""
        path = Path(path)
        with open(path, "rb") as f:
            head = f.read(MAX_RECORD + READ)
            eof = not f.read(1)
        if not head:
            raise FileRejected("empty", "The file is empty (0 bytes).")
        bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
        complete = head[bom:] if eof else head[bom : head.rfind(b"\n") + 1]
        lines = complete.split(b"\n")
        if complete.endswith(b"\n") or not complete:
            lines.pop()
        spans = _spans(lines, more=not eof)
        if not spans:
            if b"\n" not in head and b"\r" in head:
                raise FileRejected(
                    "lineEnding",
                    "Lines end with a carriage return (CR) alone; end them with LF or CRLF.",
                )
            if eof:
                raise FileRejected(
                    "empty", "The file has only blank lines: a header row is required."
                )
            raise FileRejected("header", "No header row in the first 2 MiB of the file.")
        first, last = spans[0]
        if _is_open(lines[first]) and not (last > first and _is_open(lines[last])):
            raise FileRejected(
                "quote",
                f"The header row (line {first + 1}) has a quote that is never closed.",
                first + 1,
            )
        text = b"\n".join(lines[first : last + 1]).decode("utf-8", "replace")
        delimiter = sniff_delimiter(text)
        try:
            cells = next(csv.reader([text], **_dialect(delimiter)))
        except csv.Error as exc:
            if "new-line" in str(exc) and b"\n" not in head:
                raise FileRejected(
                    "lineEnding",
                    "Lines end with a carriage return (CR) alone; end them with LF or CRLF.",
                    first + 1,
                ) from None
            rule, message = _csv_problem(exc, first + 1)
            raise FileRejected(
                rule, f"Header row (line {first + 1}): {message}", first + 1
            ) from None
        header = check_header(cells, last + 1)
        data_start = bom + sum(len(line) + 1 for line in lines[: last + 1])
        return cls(path, header, delimiter, min(data_start, bom + len(complete)), last + 1)

    def blocks(self, target_bytes: int, skip: int = 0) -> Iterator[Block]:
        """The data records in blocks of about ``target_bytes`` (each ends at the first
        record end at or past that size), after skipping ``skip`` records. Blocks depend only
        on where they start, so a run resumed with ``skip`` equal to the records of the
        blocks it already handled yields the same blocks as the first run from there.
        Memory: a few times ``target_bytes`` plus MAX_RECORD. Raises FileRejected
        (``lineLength``) when the line a block should end on is longer than MAX_RECORD."""
        with open(self.path, "rb") as f:
            f.seek(self.data_start)
            cursor = _Cursor(f, self.header_lines + 1)
            target = max(int(target_bytes), 1)
            remaining = skip
            while remaining > 0:
                # Skipped in the blocks a first run made, so that both meet the same lines.
                skipped = cursor.take(target, limit=remaining, keep=False)
                if skipped is None:
                    return
                remaining -= skipped.records
            while (block := cursor.take(target)) is not None:
                yield block


class _Cursor:
    """Reads a delimited file's data from a record start, block by block."""

    def __init__(self, f: Any, line: int) -> None:
        self.f = f
        self.buf = b""
        self.start = 0  # where the unread part of ``buf`` begins
        self.line = line  # line number at ``start``
        self.eof = False

    def _fill(self, size: int) -> None:
        """Read until ``size`` bytes are available from ``start``, or to the end."""
        have = len(self.buf) - self.start
        if have >= size or self.eof:
            return
        parts = [self.buf[self.start :]]
        while have < size:
            chunk = self.f.read(max(size - have, READ))
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self.buf = b"".join(parts)
        self.start = 0

    def _skip_blank_lines(self) -> bool:
        """Move past blank lines; False when only blank lines remain."""
        while True:
            buf = self.buf
            match = _LEADING_BLANKS.match(buf, self.start)
            end = match.end() if match is not None else self.start
            self.line += buf.count(b"\n", self.start, end)
            self.start = end
            if buf.find(b"\n", end) >= 0 or len(buf) - end > MAX_RECORD:
                return True  # the line at ``end`` is not blank
            if self.eof:
                return bool(buf[end:].strip(_BLANK))
            self._fill(len(buf) - end + READ)

    def take(self, target: int, limit: int | None = None, keep: bool = True) -> Block | None:
        """The next block: records up to the first record end at or past ``target`` bytes,
        or ``limit`` records. None at the end. ``keep=False`` leaves ``data`` empty."""
        if not self._skip_blank_lines():
            return None
        self._fill(target)
        while True:
            buf, start = self.buf, self.start
            newline = buf.find(b"\n", start + target - 1)
            if newline >= 0 or self.eof:
                break
            if len(buf) - start > target + MAX_RECORD:
                cut = buf.rfind(b"\n", start, start + target)
                if cut >= 0:
                    # The whole lines before the long one are a block of their own.
                    newline = cut
                    break
                raise _too_long(self.line)
            self._fill(len(buf) - start + READ)
        end = newline + 1 if newline >= 0 else len(buf)
        data = buf[start:end]
        newlines, open_lines = _marks(data)
        if not open_lines:
            records = _count_records(data, newlines)
            if limit is None or records <= limit:
                return self._advance(end, records, data if keep else b"", newlines)
        return self._take_slow(target, limit, keep, end - start)

    def _take_slow(self, target: int, limit: int | None, keep: bool, window: int) -> Block:
        """``take`` when quotes span lines: walk the records line by line."""
        while True:
            self._fill(window)
            buf, start = self.buf, self.start
            stop = min(len(buf), start + window)
            more = not (self.eof and stop == len(buf))
            if more:
                stop = buf.rfind(b"\n", start, stop) + 1
            piece = buf[start:stop]
            lines = piece.split(b"\n")
            if piece.endswith(b"\n") or not piece:
                lines.pop()
            spans = _spans(lines, more)
            ends = list(accumulate(len(line) + 1 for line in lines))
            for number, (first, last) in enumerate(spans, 1):
                # A block ends after a line whose quote stays open past MAX_RECORD: a block
                # that went on would read, in parse_block, as a quote open to its end.
                if (
                    ends[last] >= target
                    or number == limit
                    or (first == last and _is_open(lines[first]))
                ):
                    size = min(ends[last], len(piece))
                    return self._advance(start + size, number, piece[:size] if keep else b"")
            if not more:
                return self._advance(stop, len(spans), piece if keep else b"")
            if window > target + 2 * MAX_RECORD:
                raise _too_long(self.line + piece.count(b"\n"))
            window += max(window, READ)

    def _advance(self, end: int, records: int, data: bytes, newlines: int | None = None) -> Block:
        block = Block(self.line, records, data)
        if newlines is None:
            newlines = self.buf.count(b"\n", self.start, end)
        self.line += newlines
        self.start = end
        return block


def _too_long(line: int) -> FileRejected:
    return FileRejected("lineLength", f"Line {line} is longer than {MAX_RECORD} bytes.", line)


def _count_records(data: bytes, newlines: int) -> int:
    """Records in ``data`` (starting with a record; no quote spanning lines; ``newlines``
    of them): its non-blank lines."""
    lines = newlines
    tail = data[data.rfind(b"\n") + 1 :]
    if tail:
        lines += 1
        if not tail.strip(_BLANK):
            lines -= 1
    if _BLANK_LINE.search(data) is not None:
        lines -= len(_BEFORE_BLANK.findall(data))
    return lines


def _dialect(delimiter: str) -> dict[str, Any]:
    return {"delimiter": delimiter, "quotechar": '"', "doublequote": True, "strict": True}


class _One:
    """An iterator handing the csv reader exactly one record: a record that the reader
    finds unfinished raises "unexpected end of data" instead of eating the next one."""

    __slots__ = ("item",)

    def __init__(self) -> None:
        self.item: str | None = None

    def __iter__(self) -> _One:
        return self

    def __next__(self) -> str:
        item = self.item
        if item is None:
            raise StopIteration
        self.item = None
        return item


def _csv_problem(exc: csv.Error, line: int) -> tuple[str, str]:
    text = str(exc)
    if "unexpected end of data" in text:
        return "quote", f"The quote opened on line {line} is never closed."
    if "expected after" in text:
        return "csv", (
            "Text follows a closing quote; a quoted field must end with the quote, then the "
            'delimiter or the end of the line (write a quote inside a quoted field as "").'
        )
    if "new-line" in text:
        return "csv", "A line break inside an unquoted field; quote the field."
    if "field larger" in text:
        return "csv", f"A field is longer than {csv.field_size_limit()} characters."
    return "csv", text


def _whole_lines(
    lines: list[str], first_line: int, delimiter: str, width: int
) -> tuple[list[tuple[int, list[str]]], list[LineProblem]] | None:
    """The common case, when every line is a whole record: one csv reader over the block.
    None when the reader objects to something; the caller then reads line by line, which
    names the line and the problem."""
    rows: list[tuple[int, list[str]]] = []
    problems: list[LineProblem] = []
    try:
        parsed = list(csv.reader(lines, **_dialect(delimiter)))
    except csv.Error:
        return None
    for line, (cells, record) in enumerate(zip(parsed, lines, strict=True), first_line):
        if len(cells) == width:
            rows.append((line, cells))
        elif len(cells) <= 1 and not record.strip(" \t\r"):
            continue  # a blank line
        else:
            problems.append(
                LineProblem(
                    line,
                    "columns",
                    f"Expected {width} columns, as in the header; found {len(cells)}.",
                )
            )
    return rows, problems


def parse_block(
    data: bytes, first_line: int, delimiter: str, width: int
) -> tuple[list[tuple[int, list[str]]], list[LineProblem]]:
    """Parse a block of ``Delimited.blocks``: the records, each with the line it starts on,
    and a LineProblem for each record that cannot be read: ``columns`` (not ``width``
    cells), ``quote`` (an unterminated quote), ``csv`` (other malformed quoting). Pure."""
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    if text.endswith("\n") or not text:
        lines.pop()
    feed = _One()
    reader = csv.reader(feed, **_dialect(delimiter))
    read = reader.__next__
    rows: list[tuple[int, list[str]]] = []
    problems: list[LineProblem] = []

    def one(line: int, record: str) -> list[str] | LineProblem | None:
        feed.item = record
        try:
            cells = read()
        except csv.Error as exc:
            if not record.strip(" \t\r"):
                return None  # blank (a carriage return not before a newline upsets csv)
            rule, message = _csv_problem(exc, line)
            return LineProblem(line, rule, message)
        if len(cells) <= 1 and not record.strip(" \t\r"):
            return None
        if len(cells) != width:
            return LineProblem(
                line, "columns", f"Expected {width} columns, as in the header; found {len(cells)}."
            )
        return cells

    if not _marks(data)[1]:
        fast = _whole_lines(lines, first_line, delimiter, width)
        if fast is not None:
            return fast
        for index, record in enumerate(lines):
            got = one(first_line + index, record)
            if isinstance(got, list):
                rows.append((first_line + index, got))
            elif got is not None:
                problems.append(got)
        return rows, problems

    raw = data.split(b"\n")
    if data.endswith(b"\n") or not data:
        raw.pop()
    spans = _spans(raw, more=False)
    for first, last in spans:
        got = one(first_line + first, "\n".join(lines[first : last + 1]))
        if isinstance(got, list):
            rows.append((first_line + first, got))
            continue
        if got is None:
            continue
        if first < last and got.rule != "quote":
            # Stray quotes (``6 7/8"`` in an unquoted field) paired up lines that are records
            # of their own: read them one by one, each good line a row, each bad one reported.
            # (A quote still open at the end of the data stays one unterminated record.)
            for index in range(first, last + 1):
                item = one(first_line + index, lines[index])
                if isinstance(item, list):
                    rows.append((first_line + index, item))
                elif item is not None:
                    problems.append(item)
            continue
        problems.append(got)
    return rows, problems


class Workbook:
    """The first sheet of an ``.xlsx`` file, header read. Open with ``Workbook.open``.

    python-calamine holds the sheet's cells in its own (compact, Rust) memory; rows become
    Python objects one at a time. Cells keep what the file stores, as text: whole numbers
    ``45``, others the shortest form (``24.99``), booleans ``true``/``false``, date-times ISO
    8601 without a zone (``2018-08-23T17:23:48``: the import reads them as US Eastern),
    dates ``2018-08-23``, times ``17:23:48``, empty cells ``""``. Cells right of the last
    named header column are ignored."""

    def __init__(self, path: Path, sheet: Any, header: list[str], header_row: int) -> None:
        self.path = path
        self._sheet = sheet
        self.header = header
        self.header_row = header_row

    @classmethod
    def open(cls, path: str | Path) -> Workbook:
        """Read the header (the first non-empty row) of the first sheet. Raises FileRejected:
        ``format`` (not a readable .xlsx), ``empty`` (no rows), ``header``/
        ``duplicateHeader``."""
        path = Path(path)
        try:
            book = CalamineWorkbook.from_path(str(path))
            sheet = book.get_sheet_by_index(0)
        except (CalamineError, ValueError, OSError) as exc:
            raise FileRejected(
                "format", f"The file is not a readable .xlsx workbook ({exc})."
            ) from None
        for line, cells in _sheet_rows(sheet):
            names = [_cell_text(value) for value in cells]
            while names and not names[-1].strip():
                names.pop()
            header = check_header(names, line)
            return cls(path, sheet, header, line)
        raise FileRejected("empty", "The first sheet of the workbook is empty.")

    def rows(self, skip: int = 0) -> Iterator[tuple[int, list[str]]]:
        """The data rows after the header (blank rows left out), each with its 1-based sheet
        row number, as ``len(header)`` strings; the first ``skip`` rows are left out."""
        width = len(self.header)
        for line, cells in _sheet_rows(self._sheet):
            if line <= self.header_row:
                continue
            values = [_cell_text(value) for value in cells[:width]]
            if not any(value.strip() for value in values):
                continue
            if skip:
                skip -= 1
                continue
            if len(values) < width:
                values.extend([""] * (width - len(values)))
            yield line, values


def _sheet_rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    # iter_rows starts at the sheet's first row (empty leading rows included), so the index
    # gives the row number (python-calamine 0.9; tests pin it). Empty rows are skipped.
    for index, cells in enumerate(sheet.iter_rows()):
        if any(value != "" and value is not None for value in cells):
            yield index + 1, cells


def _cell_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)
