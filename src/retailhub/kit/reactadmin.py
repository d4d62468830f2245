"""react-admin list parameters and headers, in both data-provider dialects.

- json-server (``ra-data-json-server``): ``_start``, ``_end``, ``_sort``, ``_order`` and
  filter fields as plain query parameters; the total in ``X-Total-Count``.
- simple REST (``ra-data-simple-rest``): ``range=[0,24]``, ``sort=["id","ASC"]``,
  ``filter={"q":"x"}`` as JSON; the total in ``Content-Range: <resource> 0-24/319``.

Every list answers with both headers, so either provider works unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from retailhub.errors import DomainError

RESERVED = frozenset({"_start", "_end", "_sort", "_order", "range", "sort", "filter"})
EXPOSED = "X-Total-Count, Content-Range"


@dataclass(frozen=True)
class ListQuery:
    offset: int
    limit: int
    sort: str
    descending: bool
    filter: dict[str, Any] = field(default_factory=dict)


def _json(request: Request, name: str) -> Any:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise DomainError(f"{name}: must be JSON", field=name) from None


def _int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(f"{name}: must be an integer", field=name) from None
    if number < 0:
        raise DomainError(f"{name}: must not be negative", field=name)
    return number


def parse(
    request: Request,
    *,
    sortable: frozenset[str] | set[str],
    default_sort: str,
    max_limit: int = 1000,
    default_limit: int = 25,
) -> ListQuery:
    """Read either dialect; ``filter`` JSON wins over loose query parameters."""
    params = request.query_params
    offset, limit = 0, default_limit
    sort, descending = default_sort, False
    if "range" in params:
        span = _json(request, "range")
        if not (isinstance(span, list) and len(span) == 2):
            raise DomainError("range: must be [start, end]", field="range")
        start, end = _int(span[0], "range"), _int(span[1], "range")
        offset, limit = start, max(end - start + 1, 0)
    elif "_start" in params or "_end" in params:
        offset = _int(params.get("_start", "0"), "_start")
        end = _int(params["_end"], "_end") if "_end" in params else offset + default_limit
        limit = max(end - offset, 0)
    if "sort" in params:
        pair = _json(request, "sort")
        if not (isinstance(pair, list) and len(pair) == 2):
            raise DomainError('sort: must be ["field", "ASC"|"DESC"]', field="sort")
        sort, descending = str(pair[0]), str(pair[1]).upper() == "DESC"
    else:
        sort = params.get("_sort", default_sort)
        descending = params.get("_order", "ASC").upper() == "DESC"
    if sort not in sortable:
        raise DomainError(
            f"sort: '{sort}' is not sortable; use one of {', '.join(sorted(sortable))}",
            field="sort",
        )
    if "filter" in params:
        filters = _json(request, "filter")
        if not isinstance(filters, dict):
            raise DomainError("filter: must be a JSON object", field="filter")
    else:
        filters = {}
        for key in params:
            if key in RESERVED:
                continue
            values = params.getlist(key)
            filters[key] = values if len(values) > 1 else values[0]
    return ListQuery(
        offset=offset, limit=min(limit, max_limit), sort=sort, descending=descending, filter=filters
    )


def headers(query: ListQuery, *, total: int, returned: int, resource: str) -> dict[str, str]:
    """``X-Total-Count`` and ``Content-Range`` (``items 0-24/319``; ``*/0`` when empty)."""
    span = f"{query.offset}-{query.offset + returned - 1}" if returned else "*"
    return {
        "X-Total-Count": str(total),
        "Content-Range": f"{resource} {span}/{total}",
        "Access-Control-Expose-Headers": EXPOSED,
    }
