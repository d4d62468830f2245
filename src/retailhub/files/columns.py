"""From a file's columns to the REST record shapes.

A column is matched to a REST field by its name, ignoring case, surrounding spaces and any
spaces, underscores or dashes inside it: the current lowercase names (``imageurl``,
``subcategory``, ``reviewurl``), the 2015 PascalCase ones (``ImageUrl``, ``SubCategory``,
``ReviewUrl``) and spelled-out ones (``Image URL``) all give the REST name (``imageUrl``,
``subCategory``, ``reviewURL``). Beyond the REST field names:

- Products: ``related_skuN``, ``related_typeN``, ``related_rankN`` (also ``Related_SKU_N``...)
  fold into ``relatedProducts``, a list of ``{sku, type, rank}`` in N order, one entry per N
  that has any of the three;
- Orders and order items: ``alternateordernumber`` stands in for ``orderNumber`` when that is
  missing or empty;
- Customers: ``address1``-``address3``, ``city``, ``state``, ``country`` nest into
  ``address``, and the fields of ``loyalty`` and ``social`` into those objects.

Fields holding objects or lists (``address``, ``items``, ``relatedProducts``...) cannot be
given as a column: such a column is unknown, like any other unmatched one.

Values stay as the file has them, stripped of surrounding spaces: the records go through the
same validation as REST, which parses numbers, dates and enum names or codes and rejects what
does not fit with its own message. Only booleans are translated here, because the file
format has forms JSON does not (``Y``, ``No``, ``1``, ``null``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, ForwardRef

from retailhub.files.decode import FileRejected
from retailhub.imports import records

# Listrak's boolean import values (2015 guide, Appendix B), and "null" from the current schema
# pages. Anything else is left as the string for validation to reject.
BOOLEANS: Mapping[str, bool | None] = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "y": True,
    "n": False,
    "yes": True,
    "no": False,
    "null": None,
}

# Objects a customer row carries in columns of their own.
_NESTED: dict[str, dict[str, Any]] = {
    "Customer": {"address": records.Address, "loyalty": records.Loyalty, "social": records.Social},
}
_ALTERNATE = "alternateordernumber"
_RELATED = re.compile(r"related(sku|type|rank)(\d+)")
_SEPARATORS = re.compile(r"[\s_\-]+")

Row = dict[str, Any]
_VALUE = itemgetter(1)


def normalize(name: str) -> str:
    """The matching key of a column name: no BOM, spaces, underscores or dashes; lowercase."""
    return _SEPARATORS.sub("", name.replace("\ufeff", "")).lower()


def _annotation(typed_dict: Any, name: str) -> str:
    hint = typed_dict.__annotations__[name]
    return hint.__forward_arg__ if isinstance(hint, ForwardRef) else str(hint)


def _is_structured(annotation: str) -> bool:
    head = re.match(r"\w+", annotation)
    if head is None:
        return False
    target = getattr(records, head.group(), None)
    return head.group() == "list" or (isinstance(target, type) and hasattr(target, "__total__"))


def _scalars(typed_dict: Any, names: frozenset[str] | None = None) -> dict[str, tuple[str, bool]]:
    """normalized name -> (field, is boolean) for the scalar fields of a TypedDict."""
    found: dict[str, tuple[str, bool]] = {}
    for name in names if names is not None else typed_dict.__annotations__:
        annotation = _annotation(typed_dict, name)
        if not _is_structured(annotation):
            found[normalize(name)] = (name, annotation == "Bool")
    return found


@dataclass(slots=True)
class HeaderMap:
    """How the columns of one file become records of ``entity``. Build with ``build``."""

    entity: str
    header: list[str]
    width: int
    # Columns that match nothing, in header order (unnamed ones as "column N (no name)").
    unknown: list[str]
    # Top-level REST fields some column gives.
    fields: frozenset[str]
    # The column (as the header names it) behind each field: "imageUrl", "address.city",
    # "relatedProducts[N].sku" (N as in the column name), "alternateOrderNumber".
    sources: dict[str, str]
    _pick: Callable[[list[str]], tuple[str, ...]]
    _targets: tuple[str, ...]
    _booleans: tuple[str, ...]
    _extras: tuple[Callable[[list[str], Row], None], ...] = field(default=())

    @classmethod
    def build(cls, entity: str, header: list[str]) -> HeaderMap:
        """Match ``header`` (the file's column names) to the fields of ``entity``. Raises
        FileRejected (``duplicateHeader``) when two columns give the same field."""
        top = _scalars(getattr(records, entity), records.KNOWN_FIELDS[entity] - {"items"})
        nested = {
            key: (group, sub, boolean)
            for group, typed_dict in _NESTED.get(entity, {}).items()
            for key, (sub, boolean) in _scalars(typed_dict).items()
        }
        claimed: dict[str, str] = {}  # target -> column that gave it

        def claim(target: str, column: str) -> None:
            if target in claimed:
                raise FileRejected(
                    "duplicateHeader",
                    f'Columns "{claimed[target]}" and "{column}" both give the field '
                    f"{target}; keep one of them.",
                )
            claimed[target] = column

        direct: list[tuple[int, str, bool]] = []
        groups: dict[str, list[tuple[int, str, bool]]] = {}
        related: dict[int, dict[str, int]] = {}
        alternate: int | None = None
        unknown: list[str] = []
        names = [cell.replace("\ufeff", "").strip() for cell in header]
        for index, name in enumerate(names):
            key = normalize(name)
            if key in top:
                target, boolean = top[key]
                claim(target, name)
                direct.append((index, target, boolean))
            elif key in nested:
                group, sub, boolean = nested[key]
                claim(f"{group}.{sub}", name)
                groups.setdefault(group, []).append((index, sub, boolean))
            elif entity == "Product" and (found := _RELATED.fullmatch(key)) and int(found[2]):
                part, number = found[1], int(found[2])
                claim(f"relatedProducts[{number}].{part}", name)
                related.setdefault(number, {})[part] = index
            elif key == _ALTERNATE and entity in ("Order", "OrderItem"):
                claim("alternateOrderNumber", name)
                alternate = index
            else:
                unknown.append(name or f"column {index + 1} (no name)")

        extras: list[Callable[[list[str], Row], None]] = []
        present = {target for _, target, _ in direct}
        for group, columns in groups.items():
            extras.append(_nested(group, columns))
            present.add(group)
        if related:
            extras.append(_related([related[n] for n in sorted(related)]))
            present.add("relatedProducts")
        if alternate is not None:
            extras.append(_alternate(alternate))
            present.add("orderNumber")
        return cls(
            entity=entity,
            header=names,
            width=len(header),
            unknown=unknown,
            fields=frozenset(present),
            sources=claimed,
            _pick=_picker([index for index, _, _ in direct]),
            _targets=tuple(target for _, target, _ in direct),
            _booleans=tuple(target for _, target, boolean in direct if boolean),
            _extras=tuple(extras),
        )

    def has(self, field_name: str) -> bool:
        """Whether some column gives the top-level REST field ``field_name``."""
        return field_name in self.fields

    def record(self, cells: list[str]) -> Row:
        """The raw REST-shaped record of one row (``cells``: one per header column). Empty
        cells, and cells of spaces only, are left out; booleans are translated (``BOOLEANS``,
        any case), everything else stays a stripped string."""
        # (field, stripped value) pairs, the empty ones filtered out, all in C. The lengths
        # match by construction.
        pairs = zip(self._targets, map(str.strip, self._pick(cells)), strict=False)
        out: Row = dict(filter(_VALUE, pairs))
        for name in self._booleans:
            value = out.get(name)
            if value is not None:
                out[name] = BOOLEANS.get(value.lower(), value)
        for extra in self._extras:
            extra(cells, out)
        return out


def _picker(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    if not indexes:
        return lambda cells: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda cells: (cells[only],)
    return itemgetter(*indexes)


def _nested(group: str, columns: list[tuple[int, str, bool]]) -> Callable[[list[str], Row], None]:
    pick = _picker([index for index, _, _ in columns])
    names = tuple(sub for _, sub, _ in columns)
    booleans = frozenset(sub for _, sub, boolean in columns if boolean)

    def fill(cells: list[str], out: Row) -> None:
        values: Row = {
            name: value
            for name, value in zip(names, map(str.strip, pick(cells)), strict=True)
            if value
        }
        if values:
            for name in booleans & values.keys():
                values[name] = BOOLEANS.get(values[name].lower(), values[name])
            out[group] = values

    return fill


def _related(slots: list[dict[str, int]]) -> Callable[[list[str], Row], None]:
    # One index per (slot, part); a part without a column reads the empty string appended at
    # the end of the row.
    parts = ("sku", "type", "rank")
    layout = [slot.get(part) for slot in slots for part in parts]
    complete = all(index is not None for index in layout)
    pick = itemgetter(*[-1 if index is None else index for index in layout])

    def fill(cells: list[str], out: Row) -> None:
        values = iter(pick(cells if complete else [*cells, ""]))
        items = []
        for sku, kind, rank in zip(values, values, values, strict=True):
            # Most slots of most rows are empty: strip only what has something in it.
            if sku or kind or rank:
                sku, kind, rank = sku.strip(), kind.strip(), rank.strip()
                if sku and kind and rank:
                    items.append({"sku": sku, "type": kind, "rank": rank})
                elif sku or kind or rank:
                    item = {"sku": sku, "type": kind, "rank": rank}
                    items.append({key: value for key, value in item.items() if value})
        if items:
            out["relatedProducts"] = items

    return fill


def _alternate(index: int) -> Callable[[list[str], Row], None]:
    def fill(cells: list[str], out: Row) -> None:
        if "orderNumber" not in out:
            value = cells[index].strip()
            if value:
                out["orderNumber"] = value

    return fill
