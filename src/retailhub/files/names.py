"""What a dropped file holds, told by its name.

Listrak picks up four predetermined names, ``Listrak_Product_Feed_DATE``,
``Listrak_Order_Feed_DATE``, ``Listrak_OrderItem_Feed_DATE`` and ``Listrak_Customer_DATE``
(DATE: digits and dashes, e.g. ``20240131`` or ``2024-01-31``), and its 2015 guide the names
``Products``, ``Orders``, ``OrderItems`` and ``Customers``; each with the extension ``.csv``,
``.txt`` or ``.xlsx``, matched case-insensitively. A tenant may add its own names.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Literal

ENTITIES = ("Product", "Order", "OrderItem", "Customer")
EXTENSIONS = (".csv", ".txt", ".xlsx")

_STANDARD = re.compile(
    r"""(?:
        listrak_(?:(?P<feed>product|order|orderitem)_feed|(?P<customer>customer))_[0-9-]+
        | (?P<plural>products|orders|orderitems|customers)
    )\.(?:csv|txt|xlsx)""",
    re.IGNORECASE | re.VERBOSE,
)
_BY_LOWER = {name.lower(): name for name in ENTITIES}


def base_name(file_name: str) -> str:
    """The last component of a path, whichever separator it uses."""
    return re.split(r"[/\\]", file_name)[-1]


def file_format(file_name: str) -> Literal["delimited", "xlsx"] | None:
    """How a file is read: ``delimited`` (``.csv``, ``.txt``: comma, tab or pipe separated),
    ``xlsx``, or None for any other extension."""
    lower = base_name(file_name).lower()
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith((".csv", ".txt")):
        return "delimited"
    return None


def entity_for(file_name: str, mappings: Sequence[tuple[str, str]] = ()) -> str | None:
    """The import entity (``Product``, ``Order``, ``OrderItem`` or ``Customer``) of a file
    name, or None when the name is not recognized.

    ``mappings`` are the tenant's own ``(pattern, entity)`` pairs, shell-style patterns
    (``*``, ``?``, ``[...]``) matched case-insensitively against the whole name, tried in
    order before the standard names. A name matched by a mapping must still end in ``.csv``,
    ``.txt`` or ``.xlsx``: the extension says how to read the file."""
    name = base_name(file_name)
    if file_format(name) is None:
        return None
    lower = name.lower()
    for pattern, entity in mappings:
        known = _BY_LOWER.get(entity.lower())
        if known is not None and fnmatch.fnmatchcase(lower, pattern.lower()):
            return known
    match = _STANDARD.fullmatch(name)
    if match is None:
        return None
    word = match["feed"] or match["customer"] or match["plural"].removesuffix("s")
    return _BY_LOWER[word.lower()]
