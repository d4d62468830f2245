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
from retailhub.api import ROUTERS
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

Paths (ours): `POST /campaign`, `GET|PUT|DELETE /campaign/{campaign}`, `GET /campaigns`,
`POST /campaign/{campaign}/preview|initialize|finalize`,
`GET /campaign/{campaign}/explain/{account}` (ours),
`POST /campaign/{campaign}/push` (body: a JSON string), `POST /v2/campaign/{campaign}/push`,
`POST /campaign/{campaign}/push/click`, `POST /campaign/{campaign}/message`,
`POST /campaign/{campaign}/coupon`, `GET /stats/campaign/global?name=`,
`GET /stats/campaign?name=&from=&to=`, `GET /stats/segments?from=&to=`, `GET /accounts`,
`GET /accounts/count`, `GET /accounts/export`, `GET /accounts/export/contacts`,
`GET /account/{account}`, `GET /account/card/{card}`, `GET /account/my`,
`PUT /account/my/profile`, `PUT /account/my/properties`, `GET /account/my/campaigns`,
`GET /account/my/coupon/verify?coupon=`, `POST /account/coupon/verify?coupon=&account=&lock=`,
`POST /account/coupon/unlock?coupon=&account=`, `POST /events`; ours: `GET /notifications`,
`GET /account/my/notifications`, `GET /account/{account}/wallet`, `GET /account/my/wallet`,
`POST /account/{account}/wallet/earn`, `POST /account/{account}/wallet/spend`.

Accounts (choices):
- Every imported customer (REST or file) is an account. Its id is the `customerNumber` when
  that is 3-64 characters of `[a-zA-Z0-9._-]`, else `e-` + the first 24 hex digits of
  sha256(lower-cased email), else `n-` + the same of the number; if that id is held by another
  customer's account, `c-<customer key>`. A customer links to the account already linked to
  it, else to an unlinked account with its id, number or email (registered by token exchange
  or created by an order), else a new one. Header fields follow the latest import that carries
  them; phone is mobilePhone, else homePhone, else workPhone. Listrak's `loyalty.rewardsID`
  becomes `card` (when valid and free), `loyalty.referralCode` becomes `mgm`, and the whole
  `loyalty` block is shown as `wallet.imported` beside the wallet's `balance`.
- An imported order belongs to the account with its customerNumber, else its email, else a
  new account (same id rule). Counters (always all eight): `orders`, `value` (lifetime) and
  `orders_30d|90d|365d`, `value_30d|90d|365d` (by `dateEntered`, relative to now; refreshed
  for the whole tenant once a day); Returned and Canceled orders count nowhere. `venues` are
  the store numbers ordered at, most used first; `header.lastOrder` is the latest order date.
- Segment rule: `new` (no orders), `vip` (10+ orders or 1000+ in value over 365 days),
  `active` (last order within 90 days), `lapsing` (within 365 days), `lapsed` (older).
- `header.lastLogged` is the time of the account's latest end-user token.
- setMyProfile changes only the fields sent (null clears one). setMyProperties merges
  `properties` (names 1-64 `[a-zA-Z0-9_.-]`, values strings up to 1024 characters, at most
  100; null removes a key); a tag both added and removed ends up removed.
- Lists (`getAccounts`, `getCampaigns`, notifications, wallet entries) accept both react-admin
  dialects: `_start`/`_end`/`_sort`/`_order` with filters as plain parameters, or
  `range`/`sort`/`filter` as JSON; they answer with both `X-Total-Count` and `Content-Range`,
  exposed through CORS. AccountFilter: `id`, `card`, `email`, `phone`, `tag`, `segment`,
  `campaign` (each a value or a list), `createdFrom|To`, `lastOrderFrom|To` (inclusive; a plain
  date as a `To` bound covers its day), `q` (case-insensitive substring of id, email, names,
  card, phone). Unknown filters are 400. `getAccountsCount` answers `{"count": N}`.
- `export` and `contactExport` stream CSV of every matching account (paging ignored) from a
  server-side cursor, in creation order.
- postEvent: one bad item rejects the whole array (the message names item and field, e.g.
  `[2].type`) and nothing is stored; at most 1000 items. `account` unknown → registered;
  `card` unknown → 404. A relation is kept once per (id, type); unless `doNotProcessSymmetry`
  the other account gets the mirror (INVITED_BY ↔ INVITED, FRIEND ↔ FRIEND, UNKNOWN ↔ UNKNOWN).
  ACCOUNT-scope consents merge into the account's; TRANSACTION-scope ones are kept with the
  event. Answer: `[{account, type, id}]`.

Campaigns (choices):
- Constraints are ANDed and evaluated as one SQL filter. `counters.X`: numeric, a missing
  counter is 0, EXISTS means present. `properties.X`: text for EQ/NE/IN, numeric for
  GT/GTE/LT/LTE (only numeric-looking values match). `tags.X`: EXISTS, or EQ/NE with
  `true`/`false`. `venues.X`: EXISTS = ordered at that store; numeric ops compare the number of
  orders there. `header.firstName`: EQ/NE/IN/EXISTS, case-sensitive. `header.created|lastOrder`:
  a date-time is an instant (UTC if no zone); a date means that whole UTC day.
  `header.birthdate`: dates. A missing value fails every op but NE (the exact negation of EQ).
  EXISTS takes no value, IN 1-16 values, the others exactly one.
- POST and PUT upsert and answer 200; DELETE answers 204 and removes members, stats and
  notifications (issued coupons stay valid). An initialized campaign may change its name,
  window, `dynamic` and notifications; changing `type`, `constraints` or `states` is 409.
- preview (before initialize): `cnt` and up to 10 `samples` (oldest accounts first).
  initialize: 409 when already initialized, finalized, past `activeTo`, or over
  `RETAILHUB_LOYALTY_MAX_RUNNING_CAMPAIGNS` (default 20) running campaigns of the tenant.
  Before `activeFrom` the enrollment waits for it. finalize stops joins and transitions; the
  campaign keeps `initialized: true` and its statistics and cannot be re-initialized.
  `cnt` is the number of accounts that joined (each once).
- States: entering COUPON issues a coupon (16 uppercase hex characters, valid `validDays`,
  `usageLimit` uses) and completes; WALLET credits `points` (expiring after `expiresInDays`,
  tied to the order that completed the previous ORDER state) and completes; MESSAGE records a
  notification and completes on `message`; ACCOUNT completes when the account meets its
  constraints; ORDER completes on an imported order (not Returned/Canceled, placed after the
  account entered the state) meeting `minTotal`, `storeNumber`, `sku`, `couponUsed`
  (true: any coupon code). No `transitionTo`: the campaign is finished for the account. A loop
  made only of COUPON/WALLET states is refused. The deprecated `coupon` acknowledgement is
  409 unless the account waits in a COUPON state (ours complete at once).
- STANDARD: an account joins once; with `dynamic`, accounts that start matching after the
  enrollment (profile, properties, tags, events, imports) join. BIRTHDAY: each matching
  account is enrolled once a year, `RETAILHUB_LOYALTY_BIRTHDAY_DAYS_BEFORE` (default 7) days
  before its birthday (29 February → 28 February in common years).
- explain answers `{campaign, account, matches, constraints: [{index, field, op, value,
  actual, met}], running, inWindow, member}`.
- Notifications are records, listable at `GET /notifications`: MESSAGE (a MESSAGE state),
  DYNAMIC_JOIN (on a dynamic join), COUPON_EXPIRATION (one per unused campaign coupon whose
  validity ends within `daysBefore` days), SPECIFIC_TIME (once `at` has passed, to every
  member still in the campaign, inside its window). Time-driven work runs every minute in
  `serve` and `worker` (`retailhub loyalty tick` runs it once).
- Push: a pushId counts once per campaign (registering again only replaces the title); every
  click counts; an unknown pushId is 404.
- Stats: days are inclusive UTC dates; no bounds → the last 30 days; at most 366 days.
  globalCampaignStats: `{campaign, name, cnt, active, finished, stateStats, joined,
  couponsIssued, couponsRedeemed, messages, notifications, pushRegistered, pushClicked,
  pointsCredited}`; campaignStats lists every day of the range (zeros included); segmentStats
  gives per segment the accounts in it now, those created in the range and those whose last
  order is in the range.

Coupons (choices): verify answers 200 `{coupon, account, valid, reason, locked,
lockExpiresAt, data}`; `reason` is the first of UNKNOWN, NOT_OWNER, NOT_YET_VALID, EXPIRED,
USED_UP, LOCKED that applies; `data` (code, campaign, state, validity, usageLimit, used, locks,
remaining, productId, categoryId, enableKey) is null for UNKNOWN and NOT_OWNER. Verify
changes nothing unless `lock=true`, which reserves one use for
`RETAILHUB_LOYALTY_COUPON_LOCK_SECONDS` (default 300) if uses remain (uses = limit - used -
unexpired locks). Unlock releases the account's oldest lock (none → 404). An imported order
whose `couponCode` is a coupon of the tenant redeems it once (re-imports do not), releasing a
lock; the sale is recorded even if the coupon was someone else's, expired or used up.

Wallets (ours; choices): an append-only ledger; balance = sum of entries. Spends take the
oldest earned points first (by earning time) among unexpired ones; more than available → 409.
Expiry writes an `expire` entry for an earn's unspent remainder. An order imported later as
Returned or Canceled reverses the points it earned (once), even if they were spent (the
balance may go negative).
"""


def _description() -> str:
    from retailhub.cashback.catalog.docs import DOC as CATALOG
    from retailhub.cashback.tracking.docs import DOC as TRACKING
    from retailhub.webhooks.docs import DOC as WEBHOOKS

    return DESCRIPTION + CASHBACK + CATALOG + TRACKING + WEBHOOKS


CASHBACK = """
## Cashback (Loyalize API compatible)

Every operation of the Loyalize document, under `/cashback` (`GET v1/stores` is
`GET /cashback/v1/stores`). Send the tenant's publisher key (`cashback_api_key` from
`retailhub tenants create --json`) as `Authorization: <key>`, as Loyalize does, or as
`Authorization: Bearer <key>`. A missing or wrong key → `401 {"status": 401, "error":
"Unauthorized", "message": "API key is wrong."}`. Errors of the cashback, operator and
webhook routes have that shape (`{status, error: reason phrase, message, field?}`); a bad
parameter is `400` naming it.

Lists answer Spring's page JSON with computed values (the document's examples contradict
themselves): `totalPages` = ceil(`totalElements` / `size`) (0 when there is none), `last` =
`number` ≥ `totalPages` - 1, `numberOfElements` = the elements on this page, `first`,
`empty`, `pageable.offset` = `page` * `size`; `sort.sorted` tells whether the request asked
for an order. `page` starts at 0; `size` is 1 to 1000 (default 20); outside those bounds the
answer is `400`.

The operator (whoever runs the installation) manages the catalog, networks, transactions and
tenants' webhook endpoints under `/admin/api`, with an operator key from
`retailhub operator-key create --json` sent as `Authorization: Bearer <key>`.
"""


# Families answering errors Spring's way: {status, error: reason phrase, message, field?}.
SPRING_PREFIXES = ("/loyalty-api/", "/auth-oauth2/", "/cashback/", "/admin/api/", "/webhooks/")


def _error(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    field: str | None = None,
) -> JSONResponse:
    """One error body per API family. Listrak's envelope carries its own codes; the loyalty,
    cashback, operator and webhook APIs answer Spring's way, with the HTTP reason phrase as
    ``error``."""
    if request.url.path.startswith(SPRING_PREFIXES):
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
            from retailhub.cashback.tracking import clicks

            # Clicks still queued are written before the process goes.
            clicks.stop()
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="Retailhub",
        version=__version__,
        description=_description(),
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

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for router in ROUTERS:
        app.include_router(router)

    return app


def create_api_process_app() -> FastAPI:
    """The app of one of ``serve --processes N``'s API processes (uvicorn starts each one
    and calls this factory in it). Each tunes its own garbage collector, as ``serve`` does
    for its single process: with CPython's default thresholds, a process holding the store
    search index (tens of thousands of rows) pauses for a full collection every few thousand
    requests, and those pauses are the slowest percentile of every endpoint."""
    from retailhub.kit.runtime import tune_gc

    app = create_app()
    tune_gc()
    return app
