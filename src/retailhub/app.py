"""The ASGI application: routers, error rendering per API family, OpenAPI description."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from retailhub import __version__
from retailhub.api import router
from retailhub.config import get_settings
from retailhub.errors import DomainError

log = logging.getLogger(__name__)

DESCRIPTION = """
Retailhub re-implements documented commercial APIs so that their clients work by changing
only the base URL.

## Data import (Listrak Data Import REST API compatible)

Token: `POST /OAuth2/Token` (form: `grant_type=client_credentials`, `client_id`,
`client_secret`) → `{"access_token", "token_type": "bearer", "expires_in": 3600}`; bad
credentials → `400 {"error": "Invalid Credentials"}`. Send `Authorization: Bearer <token>`.
Each operation needs its scope: `Customer`, `Order`, `Product`, `Review` (RatingSummary uses
`Review`). Missing, invalid or expired token → `401 ERROR_UNAUTHORIZED`; a valid token without
the scope → `403 ERROR_UNAUTHORIZED` naming the scope.

Errors use Listrak's envelope `{"status", "error", "message"}`: `400 ERROR_MALFORMED_REQUEST_BODY`
(invalid JSON, or a body that is not an array), `400 ERROR_INVALID_PARAMETER` (bad query
parameter, named in the message), `415 ERROR_UNSUPPORTED_CONTENT_TYPE`, `405
ERROR_UNSUPPORTED_METHOD`, `404 ERROR_UNKNOWN_ROUTE`, `404 ERROR_UNABLE_TO_LOCATE_RESOURCE`,
`500 ERROR_UNHANDLED_EXCEPTION`. A body over 262,144,000 bytes gets `404` as Listrak documents
(error `ERROR_REQUEST_ENTITY_TOO_LARGE`).

Choices where Listrak's document is silent (ours):
- Imports are upserts: products by `sku`, orders by `orderNumber` (an order that carries
  `items` replaces that order's items), customers by `customerNumber` then by email
  (case-insensitive; a record whose number and email belong to two different customers is
  rejected with rule `conflict`), reviews by (`provider`, `providerReviewID`), rating
  summaries by (`provider`, `providerProductID`, `providerRatingSummaryID`). Key fields must
  not be blank. A customer needs an email or a customerNumber; a rating summary record needs
  `provider`, `providerProductID` and at least one entry in `ratingSummaries`.
- A record replaces the stored record whole (fields it omits are gone from the stored
  record); a customer stays reachable by the email and number it was stored with.
- Re-importing identical data changes nothing and counts as `unchanged`.
- Duplicate keys in one payload are applied in order, so the last valid record wins: each
  earlier one is reported as a warning (rule `duplicate`, naming the record that superseded
  it) and counted in `duplicates`. If the last one is invalid, the earlier valid one stays.
  Every record counts once in `received = inserted + updated + unchanged + rejected` (an
  earlier duplicate counts as what its own write did).
- Lenient like Listrak's own deserializer: numbers are accepted for string fields, enum names
  match case-insensitively or by numeric code (0 = NotSet …), booleans accept pydantic's lax
  forms (`true`/`false`, `0`/`1`, `"yes"`/`"no"`, `"on"`/`"off"`), timestamps accept ISO 8601
  and Unix seconds. Unknown fields are ignored and reported once per import as a warning
  (`unknownField`).
- Timestamps without a zone are US Eastern (as Listrak documents); all are stored and returned
  in UTC.
- `GET /data/v1/Import…` routes (ours) show each import's fate; read routes
  (`GET /data/v1/Customer`, `/Order`, `/Product`, `/Review`, `/RatingSummary`) return records in
  the import field names, paged with `count` and `cursor` → `nextPageCursor`.
- Product data rules (Listrak's product schema specification), for REST and files alike:
  `imageUrl`, `linkUrl`, `reviewURL` begin with `http://` or `https://` (rule `url`);
  `gender` is M, F or N (any case, stored uppercase; rule `enum`); `salePrice` is less than
  `price` (rule `lessThanPrice`); `saleStartDate` is before `saleEndDate` (rule `dateOrder`);
  a related product's `rank` is 1 to 25 (`range`) and its `sku`/`type` at most 100 characters.
  The document's soft guidance is reported as warnings, and the record is imported: a title
  in FULL CAPITALS (`allCaps`, four letters or more) or with HTML tags or entities (`html`);
  a placeholder such as N/A, None, NA, null, TBD or `-` in brand, category, subCategory,
  color, style or size (`placeholder`); `onSale` given together with sale dates
  (`onSaleWithDates`).

## File drop (Listrak FTP file import compatible)

Each tenant has an SFTP and FTP login (`sftp_username`/`sftp_password`, also SSH keys for
SFTP) onto its own folder: uploads go to its root, `archive/` receives each imported file,
`results/<file name>.result.csv` is each file's report. A file is taken when its upload
completes (close; or a rename from a `.tmp`/`.part` name), never half-written.

- Names (case-insensitive; DATE is digits and dashes): `Listrak_Product_Feed_DATE`,
  `Listrak_Order_Feed_DATE`, `Listrak_OrderItem_Feed_DATE`, `Listrak_Customer_DATE`, and the
  2015 names `Products`, `Orders`, `OrderItems`, `Customers`; extension `.csv`, `.txt` or
  `.xlsx`. A tenant can map its own name patterns (`retailhub tenants map-files`). Any other
  file gets a report with status `unrecognized` and stays where it is.
- Text files: comma, tab or pipe delimiter (detected from the header), `"` qualifier (`""`
  inside), header row required. Encodings: UTF-8 with or without BOM (ASCII is UTF-8), UTF-16
  with BOM ("Unicode"), UTF-7 (when marked by its BOM, or an all-ASCII file whose `+…-`
  sequences decode to non-ASCII text). Anything else is rejected whole (rules `encoding`,
  `binary`, `empty`, `lineEnding`, `lineLength`). XLSX: the first sheet, its first non-empty
  row is the header; numbers, dates and booleans are read as Excel stores them.
- Columns match the import field names ignoring case, spaces, `_` and `-` (so the current
  lowercase names and the 2015 PascalCase names both work), plus `related_skuN`,
  `related_typeN`, `related_rankN` (→ `relatedProducts`), `alternateordernumber` (the order
  number when `ordernumber` is empty), customer `address1..3`, `city`, `state`, `country`
  (→ `address`). Two columns for one field reject the file (`duplicateHeader`); unknown
  columns are reported once as a warning (`unknownColumn`). Empty cells are absent fields.
  Booleans: true/false/null, 1/0, Y/N, Yes/No (any case).
- Rows are validated by the same rules as the REST records. A row that cannot be parsed (a
  wrong number of cells: rule `columns`; an unterminated quote: `quote`) is rejected with its
  line; the other rows are imported. Errors carry the file `line` (where the row starts; the
  header is line 1) and the file's column name; `index` is null.
- Order items come in their own file, keyed by (`orderNumber`, `sku`): an item updates the
  first line of its order with that sku, or becomes the order's next line. Items may arrive
  before their order and show in it once it does; an order file never removes items.
- Each file is an import (`source` `sftp`, `ftp` or `cli`, `fileName`). The same bytes dropped
  again for the same entity, while the first import did not fail, become an import with
  status `duplicate` that imports nothing and names the first one (its report goes to
  `results/<file name>.<import id>.result.csv` when the name already has one).
- A line that cannot be split from the next (over 1 MiB) stops the reading: the rows before
  it are imported, it is reported (rule `lineLength`) and the import ends `failed`. Lines
  paired only by stray quotes (an inch mark in an unquoted field) are read one by one.
- The report: `#`-prefixed summary lines (file, import, entity, status, message, counts), then
  CSV `line,column,severity,rule,message,value` for every rejected row and warning.

## Loyalty (Ordering Stack Loyalty API compatible)

All operations are under `/loyalty-api/api` with the document's operationIds; the document
gives no paths or response bodies, so both are ours (below and on each operation).

Tokens: `POST /auth-oauth2/oauth/token`, client authentication by HTTP Basic or
`client_id`/`client_secret` form fields (`loyalty_client_id`/`loyalty_client_secret` from
`retailhub tenants create`).
- `grant_type=client_credentials` → a service token with roles `ROLE_LOYALTY`,
  `ROLE_LOYALTY_CAMPAIGN`, `ROLE_LOYALTY_STATS` (`scope` may narrow them). Service calls send
  `x-tenant` (3-64 `[a-zA-Z0-9_-]`); it must be the token's tenant (else 403); when absent the
  token's tenant is used (the document never marks it required). Roles per operation: accounts,
  events, exports and coupons need `ROLE_LOYALTY`; campaigns and push `ROLE_LOYALTY` or
  `ROLE_LOYALTY_CAMPAIGN`; stats `ROLE_LOYALTY` or `ROLE_LOYALTY_STATS`.
- `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693) with
  `subject_token=<account id>` → an end-user token for that account (the `my` operations,
  `verifyCoupon`, `message`, `coupon`, `pushClick`); an account id seen for the first time is
  registered. User tokens cannot call service operations and vice versa (403).
- Token errors follow RFC 6749 (`401 invalid_client`, `400 invalid_request|invalid_scope|
  unsupported_grant_type`). Every other loyalty error is Spring-style
  `{"status", "error": <reason phrase>, "message"}`; validation errors name the field in the
  message and in `field` (`states[2].transitionTo`). No token → 401; wrong role or tenant → 403.

LOYALTY_CHOICES
"""


LOYALTY_PREFIXES = ("/loyalty-api/", "/auth-oauth2/")


def _error(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    field: str | None = None,
) -> JSONResponse:
    """One error body per API family. Listrak's envelope carries its own codes; the loyalty
    API answers Spring's way, with the HTTP reason phrase as ``error``."""
    if request.url.path.startswith(LOYALTY_PREFIXES):
        body: dict[str, Any] = {
            "status": status,
            "error": HTTPStatus(status).phrase,
            "message": message,
        }
        if field is not None:
            body["field"] = field
        return JSONResponse(body, status_code=status, headers=headers)
    return JSONResponse(
        {"status": status, "error": code, "message": message}, status_code=status, headers=headers
    )


def _validation_problem(exc: RequestValidationError) -> tuple[str | None, str]:
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return None, f"The request body is not valid JSON: {err.get('msg', '')}."
        loc = [
            str(p)
            for p in err.get("loc", ())
            if p not in ("query", "path", "body", "header", "form")
        ]
        if loc:
            field = ".".join(loc)
            return field, f"An invalid value was supplied for {field}: {err.get('msg', '')}."
    return None, "An invalid value was supplied."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        field = getattr(exc, "field", None)
        return _error(request, exc.status, exc.code, exc.message, headers, field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(
                request,
                404,
                "ERROR_UNKNOWN_ROUTE",
                f"No route matches {request.method} {request.url.path}.",
            )
        if exc.status_code == 405:
            return _error(
                request,
                405,
                "ERROR_UNSUPPORTED_METHOD",
                f"The route {request.url.path} does not support the {request.method} method.",
                dict(exc.headers or {}),
            )
        return _error(request, exc.status_code, "ERROR_HTTP", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        field, message = _validation_problem(exc)
        return _error(request, 400, "ERROR_INVALID_PARAMETER", message, field=field)

    @app.exception_handler(Exception)
    async def unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(
            request,
            500,
            "ERROR_UNHANDLED_EXCEPTION",
            "An unexpected error occurred; nothing was stored by this request.",
        )


def create_app(
    *, on_startup: Callable[[], Any] | None = None, on_shutdown: Callable[[], Any] | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if on_startup is not None:
            on_startup()
        try:
            yield
        finally:
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="Retailhub",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    settings = get_settings()
    if settings.cors_origins:
        # Bearer tokens, not cookies: any allowed origin may read lists and their totals.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Total-Count", "Content-Range"],
        )
    app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
