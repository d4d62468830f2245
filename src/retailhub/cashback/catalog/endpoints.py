"""The publisher's catalog reads (``/cashback``): categories, stores, search, deals, logos.

Answers come from this process's catalog cache (see ``cache``); the publisher's own links
are added per request.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from retailhub.cashback.auth import PublisherDep
from retailhub.cashback.catalog import repository, search, views
from retailhub.cashback.catalog.cache import cached, cached_async
from retailhub.cashback.catalog.regions import ALL, GLOBAL, ISO_COUNTRIES, REGIONS
from retailhub.cashback.catalog.repository import DealFilter, StoreFilter
from retailhub.cashback.catalog.schemas import DEAL_TYPES, TAGS
from retailhub.cashback.pages import PageDep, page_body
from retailhub.config import get_settings
from retailhub.db import session_scope
from retailhub.errors import DomainError, NotFound


class FastJSON(Response):
    """JSON rendered by orjson without FastAPI's generic encoder: a page of 1,000 stores is
    plain dicts, lists and strings already."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


router = APIRouter(tags=["Cashback catalog"], default_response_class=FastJSON)
MAX_TAGS = 5
LOGO_MAX_AGE = 86_400


def base_url(request: Request) -> str:
    return (get_settings().public_url or str(request.base_url)).rstrip("/")


def links(request: Request, publisher: PublisherDep) -> views.Links:
    return views.Links(base=base_url(request), cid=publisher.cid)


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _bad(field: str, message: str) -> DomainError:
    return DomainError(f"An invalid value was supplied for {field}: {message}.", field=field)


def parse_ids(value: str | None, field: str) -> tuple[int, ...]:
    try:
        return tuple(sorted({int(part) for part in _csv(value)}))
    except ValueError:
        raise _bad(field, "store ids are integers") from None


def parse_countries(value: str | None) -> tuple[str, ...]:
    codes = sorted({part.upper() for part in _csv(value)})
    for code in codes:
        if code != GLOBAL and code not in ISO_COUNTRIES:
            raise _bad("countries", f"{code} is neither an ISO 3166-1 alpha-2 code nor GLOBAL")
    return tuple(codes)


def parse_home(value: str | None) -> frozenset[str] | None:
    """Countries and regions widen; ALL (or nothing) means every store."""
    found: set[str] = set()
    for code in (part.upper() for part in _csv(value)):
        if code == ALL:
            return None
        if code in REGIONS:
            found |= REGIONS[code]
        elif code in ISO_COUNTRIES:
            found.add(code)
        else:
            raise _bad("home", f"{code} is not an ISO 3166-1 alpha-2 code, APAC, EU, LATAM or ALL")
    return frozenset(found) if found else None


def parse_tags(value: str | None) -> tuple[str, ...]:
    tags = _csv(value)
    if len(tags) > MAX_TAGS:
        raise _bad("tagName", f"at most {MAX_TAGS} tags")
    for tag in tags:
        if tag not in TAGS:
            raise _bad("tagName", f"{tag} is not one of {', '.join(TAGS)}")
    return tuple(sorted(set(tags)))


def parse_sort(value: str | None) -> str | None:
    if not value:
        return None
    field, _, direction = value.replace(" ", "").partition(",")
    if field != "name" or direction.lower() not in ("asc", "desc"):
        raise _bad("sort", "the order is name,asc or name,desc")
    return direction.lower()


def parse_day(value: str | None, field: str, *, end: bool) -> datetime | None:
    """``YYYY-MM-DD`` (a whole UTC day: an end date covers it) or an ISO instant with zone
    (an end instant is included)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            return day + timedelta(days=1) if end else day
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(field, "dates are YYYY-MM-DD or YYYY-MM-DDT00:00:00Z") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    instant = instant.astimezone(UTC)
    return instant + timedelta(microseconds=1) if end else instant


def _store_row(store_id: int) -> dict[str, Any]:
    def load() -> dict[str, Any] | None:
        with session_scope() as session:
            return repository.get_store(session, store_id, active_only=True)

    row = cached(("store", store_id), load)
    if row is None:
        raise NotFound(f"Store {store_id} was not found.")
    return row


@router.get("/cashback/v1/stores/categories", operation_id="getStoreCategories")
def get_categories(_publisher: PublisherDep) -> Any:
    """Every category, by name."""

    def load() -> list[dict[str, Any]]:
        with session_scope() as session:
            return [views.category(row) for row in repository.list_categories(session)]

    return cached(("categories",), load)


@router.get("/cashback/v1/stores/search", operation_id="searchStores")
async def search_stores(
    request: Request,
    publisher: PublisherDep,
    page: PageDep,
    term: Annotated[str, Query(description="Searched in store names and descriptions.")] = "",
    countries: Annotated[str | None, Query()] = None,
) -> Any:
    """Stores whose name or description contains ``term``, best match first; a JSON array
    holding the requested page (as the document's example)."""
    term = term.strip()
    if not term:
        raise _bad("term", "a search term is required")
    served = parse_countries(countries)
    link = links(request, publisher)
    key = (term.lower(), served, page)
    # From memory when this process has the index (see ``search``), else the database.
    snapshot = search.index.snapshot() if get_settings().cashback_cache_seconds else None

    def load() -> list[dict[str, Any]]:
        if snapshot is None:
            with session_scope() as session:
                return repository.search_stores(session, term, served, page)
        ids = snapshot.search(key[0], served, page.offset + page.size)
        return [snapshot.summaries[store_id] for store_id in ids[page.offset :]]

    def render() -> bytes:
        rows = cached(("search", *key), load)
        return orjson.dumps([views.store_summary(row, link) for row in rows])

    # The answer as sent, per publisher (its links differ): a repeated search is answered
    # without a worker thread or a database read, and so is a new one that the index answers
    # quickly. Other searches run in a worker thread.
    body_key = ("search-body", link, *key)
    if snapshot is not None and search.quick(key[0], page.offset + page.size):
        body = cached(body_key, render)
    else:
        body = await cached_async(body_key, render)
    return Response(body, media_type="application/json")


@router.get("/cashback/v1/stores", operation_id="getStores")
def get_stores(
    request: Request,
    publisher: PublisherDep,
    page: PageDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    categories: Annotated[str | None, Query()] = None,
    ids: Annotated[str | None, Query()] = None,
    home: Annotated[str | None, Query()] = None,
    countries: Annotated[str | None, Query()] = None,
    has_address: Annotated[bool | None, Query(alias="hasAddress")] = None,
    tag_name: Annotated[str | None, Query(alias="tagName")] = None,
    sort: Annotated[str | None, Query()] = None,
) -> Any:
    """Active stores matching every given filter, a page at a time."""
    f = StoreFilter(
        name=(name or "").strip().lower() or None,
        categories=tuple(sorted(set(_csv(categories)))),
        ids=parse_ids(ids, "ids"),
        home=parse_home(home),
        countries=parse_countries(countries),
        has_address=has_address,
        tags=parse_tags(tag_name),
        sort=parse_sort(sort),
    )

    def load() -> tuple[list[dict[str, Any]], int]:
        with session_scope() as session:
            return repository.find_stores(session, f, page)

    rows, total = cached(("stores", f, page), load)
    link = links(request, publisher)
    content = [views.store(row, link) for row in rows]
    return page_body(content, page, total, sorted_=f.sort is not None)


@router.get("/cashback/v1/stores/{store_id}", operation_id="getStore")
def get_store(request: Request, publisher: PublisherDep, store_id: int) -> Any:
    """One active store."""
    return views.store(_store_row(store_id), links(request, publisher))


@router.get(
    "/cashback/v1/stores/{store_id}/alternative-content",
    operation_id="getAlternativeStoreContent",
)
def get_alternative_content(_publisher: PublisherDep, store_id: int) -> Any:
    """The store's description and terms in other languages."""
    return _store_row(store_id)["alternative_content"]


@router.get("/cashback/v1/stores/{store_id}/address", operation_id="getStoreAddress")
def get_address(_publisher: PublisherDep, store_id: int) -> Any:
    """The store's headquarters address; 404 when it has none."""
    address = _store_row(store_id)["address"]
    if not address:
        raise NotFound(f"Store {store_id} has no address.")
    return views.address(store_id, address)


@router.get(
    "/cashback/resources/stores/{store_id}/logo",
    operation_id="getStoreLogo",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 304: {}, 404: {}},
)
def get_logo(request: Request, store_id: int) -> Response:
    """The store's logo image. Public (no key): ``imageUrl`` goes into shoppers' pages.
    Revalidate with ``If-None-Match``."""
    with session_scope() as session:
        logo = repository.get_logo(session, store_id)
    if logo is None:
        raise NotFound(f"Store {store_id} has no logo.")
    headers = {"ETag": f'"{logo.digest}"', "Cache-Control": f"public, max-age={LOGO_MAX_AGE}"}
    asked = {tag.strip().removeprefix("W/") for tag in _csv(request.headers.get("if-none-match"))}
    if headers["ETag"] in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(logo.data, media_type=logo.content_type, headers=headers)


@router.get("/cashback/v1/deals", operation_id="getDeals")
def get_deals(
    request: Request,
    publisher: PublisherDep,
    page: PageDep,
    id: Annotated[str | None, Query(description="A store id (as storeId).")] = None,
    store_id: Annotated[str | None, Query(alias="storeId")] = None,
    deal_type: Annotated[str | None, Query(alias="dealType")] = None,
    start_date: Annotated[str | None, Query(alias="startDate")] = None,
    end_date: Annotated[str | None, Query(alias="endDate")] = None,
) -> Any:
    """Deals of active stores, by id; dates select deals valid at some time in the period."""
    if deal_type is not None and deal_type not in DEAL_TYPES:
        raise _bad("dealType", f"one of {', '.join(DEAL_TYPES)}")
    by_id, by_store = parse_ids(id, "id"), parse_ids(store_id, "storeId")
    if by_id and by_store and set(by_id) != set(by_store):
        # Both given: deals of stores named by both.
        by_id = tuple(sorted(set(by_id) & set(by_store))) or (0,)
    f = DealFilter(
        store_ids=by_id or by_store,
        deal_type=deal_type,
        start=parse_day(start_date, "startDate", end=False),
        end=parse_day(end_date, "endDate", end=True),
    )
    if f.start and f.end and f.end <= f.start:
        raise _bad("endDate", "endDate is before startDate")

    def load() -> tuple[list[dict[str, Any]], int]:
        with session_scope() as session:
            return repository.find_deals(session, f, page)

    rows, total = cached(("deals", f, page), load)
    link = links(request, publisher)
    return page_body([views.deal(row, link) for row in rows], page, total, sorted_=False)


@router.get("/cashback/v1/deals/{deal_id}", operation_id="getDeal")
def get_deal(request: Request, publisher: PublisherDep, deal_id: int) -> Any:
    """One deal of an active store."""

    def load() -> dict[str, Any] | None:
        with session_scope() as session:
            return repository.find_deal(session, deal_id, active_only=True)

    row = cached(("deal", deal_id), load)
    if row is None:
        raise NotFound(f"Deal {deal_id} was not found.")
    return views.deal(row, links(request, publisher))
