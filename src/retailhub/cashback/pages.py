"""Spring Data page JSON, as the Loyalize lists answer (``page`` is 0-based, ``size`` ≤ 1000).

The document's examples contradict themselves (``numberOfElements`` 20 for 2 elements,
``last`` false on the only page); these values are computed, as Spring computes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

MAX_SIZE = 1000


@dataclass(frozen=True)
class PageRequest:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return self.page * self.size


async def page_request(
    page: Annotated[int, Query(ge=0, description="Page number starting from 0.")] = 0,
    size: Annotated[
        int, Query(ge=1, le=MAX_SIZE, description="Results per page (up to 1,000).")
    ] = 20,
) -> PageRequest:
    # async: a plain function needs no worker thread (FastAPI runs sync dependencies in one).
    return PageRequest(page=page, size=size)


PageDep = Annotated[PageRequest, Depends(page_request)]


def _sort(sorted_: bool) -> dict[str, bool]:
    return {"sorted": sorted_, "unsorted": not sorted_, "empty": not sorted_}


def page_body(
    content: Sequence[Any], request: PageRequest, total: int, *, sorted_: bool
) -> dict[str, Any]:
    """The page JSON for ``content`` (this page's elements) of ``total`` elements.

    ``sorted_`` tells whether the caller asked for an order (Spring reports the requested
    sort, not the storage order)."""
    total_pages = -(-total // request.size)
    return {
        "content": list(content),
        "pageable": {
            "sort": _sort(sorted_),
            "offset": request.offset,
            "pageNumber": request.page,
            "pageSize": request.size,
            "paged": True,
            "unpaged": False,
        },
        "totalPages": total_pages,
        "totalElements": total,
        "last": request.page >= total_pages - 1,
        "size": request.size,
        "number": request.page,
        "sort": _sort(sorted_),
        "numberOfElements": len(content),
        "first": request.page == 0,
        "empty": len(content) == 0,
    }
