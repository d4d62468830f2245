"""The tracking and transactions part of the OpenAPI description."""

DOC = """
### Tracking, transactions, postbacks (choices where the Loyalize document is silent)

**Tracking redirect** `GET /cashback/v1/stores/{id}/tracking?cid=&cp=&sid=&dealId=` needs no
API key (the shopper's browser opens it); `cid` is the publisher id (the tenant id,
`cashback_publisher_id`). `cp` is required, 1-96 characters; `sid` at most 96; `dealId`
optional and must be a deal of that store. Refusals: a malformed parameter → `400` naming it;
an unknown `cid` → `404` (field `cid`); an unknown or removed (inactive) store → `404`; a deal
of another store → `404` (field `dealId`). Success: a click (id: 32 lower-case hex
characters) is recorded and the answer is `302` with `Cache-Control: no-store` to the store's
URL, where the network learns the click id: a `{clickId}` placeholder in the store URL is
replaced by it, otherwise `clickId=<id>` is added to the URL's query (before any `#fragment`).
The `302` is sent only once the click is committed: clicks are written by group commit (one
writer per process commits every click queued meanwhile, up to 500, in one transaction); a
batch that cannot be written answers `503` to each of its requests. The store's URL and
whether it is active come from the process's catalog cache: a store changed or removed
through another process is redirected as before for at most `RETAILHUB_CASHBACK_CACHE_SECONDS`.

**Clicks** `GET /cashback/v2/clicks`: newest first by default (`sort=clickDate,desc`);
`sort` accepts `clickDate`, `clickDate,asc`, `clickDate,desc` (anything else → `400`), and the
page reports `sorted: true`. `storeName` matches a case-insensitive part of the store name;
`shopperId`, `sid`, `storeId` match exactly; `clickDateStart`/`clickDateEnd` are inclusive UTC
days. `transactionId` is the first transaction attributed to the click, as a string. A
publisher sees only its own clicks (another's click id → `404`).

**Networks** (operator): `POST /admin/api/networks {name}` (1-64 of `[A-Za-z0-9._-]`, unique;
→ `201` with the signing `secret`, `whsec_` + base64 of 24 random bytes, shown only then and on
`POST /admin/api/networks/{id}/rotate-secret`, which invalidates the old one at once);
`GET /admin/api/networks` (no secrets); `POST /admin/api/networks/{id}/deactivate`.

**Postback** `POST /cashback/postback`: the raw body is signed per the Standard Webhooks spec
with the network's secret (`webhook-id`, `webhook-timestamp` within 5 minutes either way,
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), and `X-Network` names the
network. A missing or bad signature, a stale timestamp, an unknown or deactivated network →
`401`. (A replayed message within the 5 minutes is harmless: reports are idempotent.)
The body is one record or an array of 1-1000 records:
`{clickId, orderNumber, saleAmount, currency, purchaseDate, status? (PENDING),
commissionName?, adminComment?, skus?: [{sku, itemName?, category?, quantity? (1), price}]}`.
Amounts are decimals ≥ 0 with at most 4 places (JSON numbers or strings); `currency` is 3
letters (upper-cased); `purchaseDate` an ISO instant (UTC when it has no zone).
- One record: `201 {"result": "created", "transactionId"}`, or `200` with `updated` /
  `unchanged`; an error answers its status (below) with the usual error body.
- An array: `200 {"received", "created", "updated", "unchanged", "rejected", "results": [...]}`
  with one result per record, in order: `{"index", "status": 201|200, "result",
  "transactionId"}` or `{"index", "status", "message", "field"}`. Each record is applied on its
  own: a rejected one changes nothing, the others are kept.
- An unknown `clickId` → `422` naming it (and logged as a warning). A bad field → `400`
  naming it.
- A transaction is attributed to its click's publisher, shopper (`cp`) and `sid`; the click's
  `transactionId` is set to its first transaction.
- Idempotent: a store's `orderNumber` is one sale. Reported again (by the same click), what
  differs is applied as one change: amounts (only while PENDING, else `409`) → a
  `CASHBACK_VALUE_CHANGE`; a status that is a lifecycle step → a `TRANSACTION_STATUS_UPDATE`;
  an illegal status → `409` naming both statuses; the same status and amounts → `unchanged`.
  `skus` given again replace the stored lines; `purchaseDate` is kept from the first report.
  The same order number of the same store reported for another click → `409`.
- A new record whose status is not PENDING is created PENDING and then moved (a legal first
  step only: AVAILABLE, or NON_COMMISSIONABLE with a comment).

**Lifecycle**: PENDING → AVAILABLE → PAYMENT_INITIATED → PAID; PENDING or AVAILABLE →
NON_COMMISSIONABLE (needs `adminComment`, else `400`). Any other move → `409`
(`status: cannot move from X to Y`); moving to the current status changes nothing.
`pendingDate` is set at creation, `availabilityDate` on AVAILABLE, `paymentDate` on PAID,
`lastUpdate` on every change (platform clock). Every change, creation included, is kept with
old/new status, old/new sale amount and shopperCommission, time, actor (`network:<name>` or
`operator`) and comment. Changes of one transaction are serialized (a row lock on
PostgreSQL, the write transaction on SQLite): of two conflicting moves exactly one wins.

**Commission** (exact decimals): `commissionAmount` = saleAmount * the store's commission % /
100, or the store's fixed amount when its commission format is a currency (a sale in another
currency → `422`, field `currency`: we convert no currencies), rounded half-up to 4 places. A
`commissionName` applies the store's `commissionDetails` entry of that name instead (no such
entry → `422`). `shopperCommission` = commissionAmount * the publisher's share, rounded
half-up to cents. The share and tier are taken when the transaction is created and kept with
it; a later sale amount change recomputes both amounts with the store's commission at that
time (and the `commissionName` sent with the change, if any).

**Publisher settings** (operator): `GET|PUT /admin/api/publishers/{tenant slug}/cashback-settings`
`{"share": "0.70", "tier": "T1", "walletCredit": {"enabled": true, "pointsPerUnit": "100"}}`;
`share` 0-1 (at most 4 places), `tier` 1-32 characters, `pointsPerUnit` > 0. PUT replaces the
whole block; omitted fields take the defaults: share 1 (the whole commission goes to the
shopper), tier `T1`, wallet credit off.

**Wallet credit**: when a transaction becomes AVAILABLE and the publisher enabled it, the
shopper's loyalty wallet (shopperId = loyalty account id, registered if new) earns
floor(shopperCommission * pointsPerUnit) points (source `cashback:<id>`), shown as
`walletPoints` to the operator; nothing is credited for 0 points or a shopper id that cannot
be an account id (3-64 of `[a-zA-Z0-9._-]`; logged). A later NON_COMMISSIONABLE reverses the
credit once (the balance may go negative if the points were spent).

**Operator transactions** (`/admin/api/transactions`): `POST` a record (as the postback;
actor `operator`) → `201`/`200` with the operator's view (the publisher's fields plus
`tenantId`, `clickId`, `networkId`, `commissionAmount`, `share`, `walletPoints`,
`createdAt`); `GET` lists every publisher's (filters `tenant`, `ids`, `status`, `storeId`,
`shopperId`, `modifiedSince`; by id); `GET /{id}`; `PATCH /{id} {status?, adminComment?,
saleAmount?, commissionName?}`; `GET /{id}/changes` (the history, oldest first, amounts as
strings); `POST /status {ids (1-1000), status, adminComment?}` moves many, all or nothing: an
unknown id → `404` naming it, an illegal move of any → `409` naming the transaction and both
statuses, and nothing changes; it answers `{"updated": [ids], "unchanged": [ids already at
the status]}` and writes one TRANSACTION_STATUS_UPDATE per publisher and previous status
naming all its ids.

**Publisher reads**: `GET /cashback/v2/transactions` by id ascending (the page reports
`sorted: false`); `ids` and `sid` are comma lists; `startDate`/`endDate` filter the purchase
date and `paidStartDate`/`paidEndDate` the payment date, as inclusive UTC days (both document
forms, `YYYY-MM-DD` and `YYYY-MM-DDT00:00:00Z`, name a day); `adminComment` matches a
case-insensitive part; `currency` is case-insensitive; ours: `modifiedSince` (an ISO instant)
keeps transactions whose `lastUpdate` is at or after it, for reconciliation. `saleAmount` and
`shopperCommission` are exact JSON numbers (at least 2 decimals, e.g. `18.49`, `1000.00`).
`isSkuDetailsBrand` is true when the transaction has SKU lines. `GET
/cashback/v2/sku-details` lists the lines of the publisher's transactions by transaction and
line (`price` a string with at least 2 decimals); `startDate`/`endDate` filter the purchase
date. Another publisher's transaction → `404`; its rows never appear in lists.

**Webhooks**: NEW_TRANSACTION, TRANSACTION_STATUS_UPDATE and CASHBACK_VALUE_CHANGE (amounts as
strings) are written in the same database transaction as the change, with one ordering key
per publisher, so a publisher's transaction events arrive in the order they happened.
"""
