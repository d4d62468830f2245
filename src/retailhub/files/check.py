"""Checking a batch of file rows: parse, map columns to record fields, validate with the
same rules as the REST import. Pure, so it runs in a checker process."""

from __future__ import annotations

import re
from functools import lru_cache

from retailhub.files.columns import HeaderMap
from retailhub.files.reader import Block, parse_block
from retailhub.imports.issues import Issue
from retailhub.imports.pipeline import Checked, check_records

_RELATED = re.compile(r"^relatedProducts\[(\d+)\]\.(sku|type|rank)$")


@lru_cache(maxsize=8)
def header_map(entity: str, header: tuple[str, ...]) -> HeaderMap:
    return HeaderMap.build(entity, list(header))


def column_of(hmap: HeaderMap, field: str) -> str:
    """The file column a record field came from, as the file's header names it."""
    related = _RELATED.match(field)
    if related:
        # The Nth related product given in the row (columns related_skuN, ... in order).
        return f"related_{related.group(2)}{int(related.group(1)) + 1}"
    if field in hmap.sources:
        return hmap.sources[field]
    if field == "orderNumber" and "alternateOrderNumber" in hmap.sources:
        return hmap.sources["alternateOrderNumber"]
    return field


def check_rows(entity: str, header: tuple[str, ...], rows: list[tuple[int, list[str]]]) -> Checked:
    """Validate rows given as (file line, cells)."""
    hmap = header_map(entity, header)
    checked = check_records(entity, [(line, hmap.record(cells)) for line, cells in rows])
    for issue in checked.issues:
        issue.field = column_of(hmap, issue.field)
    return checked


def check_block(entity: str, header: tuple[str, ...], delimiter: str, block: Block) -> Checked:
    """Parse a block of a delimited file and validate its rows; rows that cannot be parsed
    (wrong number of cells, an unterminated quote) are rejected with their line."""
    hmap = header_map(entity, header)
    rows, problems = parse_block(block.data, block.first_line, delimiter, hmap.width)
    checked = check_rows(entity, header, rows)
    for problem in problems:
        checked.rejected += 1
        checked.issues.append(
            Issue("error", "(row)", problem.rule, problem.message, index=problem.line)
        )
    return checked
