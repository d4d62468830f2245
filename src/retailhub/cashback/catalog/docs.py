"""The catalog's part of the OpenAPI description."""

DOC = """### Catalog

Choices where the Loyalize document is silent:

- **Links.** `trackingUrl` is `{base}/cashback/v1/stores/{id}/tracking?cid={cid}&cp=` (deals
  add `&dealId={id}`), `imageUrl` is `{base}/cashback/resources/stores/{id}/logo` or `null`
  when the store has no logo; `base` is `RETAILHUB_PUBLIC_URL`, else the request's base URL.
- **Logos** (`GET /cashback/resources/stores/{id}/logo`) need no key: `imageUrl` is meant for
  shoppers' pages. They answer with `ETag` (the SHA-256 of the image), `Cache-Control:
  public, max-age=86400` and `304` on a matching `If-None-Match`.
- **Store filters.** `name` is a case-insensitive substring of the name or description.
  `categories` (seoFriendlyIds), `ids` and `home` widen within themselves (any of them);
  `home` takes ISO 3166-1 alpha-2 codes and the regions `APAC`, `EU`, `LATAM` (members in
  `retailhub.cashback.catalog.regions`); `ALL` means every store. `countries` narrows: a
  store must serve every given country; `GLOBAL` alone selects stores marked `GLOBAL`;
  `GLOBAL` with countries selects stores marked `GLOBAL` **or** serving every given country.
  `tagName` takes up to 5 of b2bStores, bopisStores, extraCashback, newCustomers,
  toolbarAllowed, topStores, all required. `sort` is `name,asc` or `name,desc` (ties by id);
  without it stores come by id and the page reports `sorted: false`. Different filters
  combine with AND. A bad value answers 400 naming the parameter.
- **Search** (`GET /cashback/v1/stores/search`) answers a plain JSON array, as the document's
  example: the requested page (`page`, `size`) of the ranked matches — name equal to the
  term, name starting with it, name containing it, then description only (all
  case-insensitive); ties by the lower-cased name in byte order, then id. `term` is
  required; `countries` as for the store list.
- **Deals.** `id` and `storeId` both name stores (both given: stores named by both).
  `startDate`/`endDate` select deals whose validity overlaps the period; a date
  (`YYYY-MM-DD`, UTC) as `endDate` covers that whole day, an instant is included; a deal
  with no start or end date is open on that side. Deals come by id; removed stores' deals
  are hidden.
- **Caching.** Each API process keeps publisher catalog answers for
  `RETAILHUB_CASHBACK_CACHE_SECONDS` (default 10 s). A change made through the same process
  clears its cache at once; other processes (other API nodes, `retailhub stores import`)
  show it within that many seconds. Store search runs on an in-memory index of each
  process with the same freshness (and the same results as the database's search, which
  answers while the index is being built); with the setting at 0 every search goes to the
  database. A valid API key is trusted by a process for `RETAILHUB_API_KEY_CACHE_SECONDS`
  (default 60 s) before it is read again.
- **Operator API** (`/admin/api`, operator key). Stores: `POST /stores` (id generated unless
  given; 409 when taken), `PUT /stores/{id}` (create or replace), `PATCH /stores/{id}`
  (given top-level fields replace the stored ones), `DELETE /stores/{id}` (soft removal:
  `active: false`; a later PUT or import restores it), `GET /stores` (every store, removed
  included, by id), `GET /stores/{id}`; a store body is the document's store plus `tags`,
  `address`, `alternativeContent` and `active`; `categories` are names, created (with a
  slug) when new. `PUT /stores/{id}/logo` takes the raw image (png, jpeg, gif, webp,
  svg+xml; 415 otherwise; at most 1 MiB, else 400); `DELETE` removes it. Categories:
  `GET/POST /categories`, `PUT/DELETE /categories/{id}` (seoFriendlyId unique; defaults to
  the name's slug). Deals: `GET/POST /deals`, `GET/PUT/DELETE /deals/{id}`. Rules:
  `commission.format` is `%` or a 3-letter currency, `value` ≥ 0 and ≤ 100 for `%`; `url`
  is http(s); `home` an ISO code; `countries` ISO codes or `GLOBAL`; tags from the six.
- **Store events.** STORE_ADDED for a new store or a removed one made active again;
  STORE_REMOVED when removed; STORE_CASHBACK_CHANGE (`commission`, value as a string),
  STORE_TERMS_CHANGE (`storeTerms`) and STORE_COUNTRY_CHANGE (`countries`) for stores
  active before and after the change. One event per type per write, listing every store
  concerned; an import writes them per batch transaction (2,000 stores), so an import of
  up to 2,000 stores sends one event per type.
- **Import** (`retailhub stores import FILE`): a JSON array of stores (streamed) or a CSV
  file with the same column names: `commission` as `1.80%` or `2.50 USD` (or
  `commission.value` and `commission.format` columns), `countries`, `categories`, `tags` as
  comma lists or JSON arrays, `address` as JSON or `address.line1` … `address.country`
  columns, `commissionDetails` and `alternativeContent` as JSON; an empty cell is absent.
  Every record needs an `id` (upsert by id; a later record with the same id in a batch
  wins). The summary counts `imported` (`inserted`, `updated`, `unchanged`) and `rejected`,
  with `errors` (first 1,000) naming the record (`index` in a JSON array, 0-based, or CSV
  `line`), the `field`, the `rule` and a `message`.
"""
