"""The webhooks part of the OpenAPI description."""

DOC = """
### Webhooks

Events are delivered per the [Standard Webhooks](https://www.standardwebhooks.com/) spec to the
endpoints a tenant registers. A tenant manages its own endpoints under `/webhooks/v1/endpoints`
with its publisher key (`Authorization: <key>` or `Bearer <key>`; another tenant's endpoint is
`404`); the operator manages every tenant's under `/admin/api/webhooks` (create names the
tenant by `tenant` slug; list filters by `?tenant=`). Both entrances offer the same operations:
create `{url, eventTypes, description}` (http/https URL; `eventTypes` a subset of the event
types below, empty = all; an unknown one is `400` naming `eventTypes[i]`), list, get, `PATCH`
(`url`, `eventTypes`, `description`, `enabled`), `DELETE` (its deliveries go too),
`GET /{id}/secret`, `POST /{id}/rotate-secret` (the old secret stops at once), the delivery
log `GET /{id}/deliveries?status=` (newest first), `GET /{id}/deliveries/{deliveryId}/attempts`,
`POST /{id}/deliveries/{deliveryId}/replay`, `POST /{id}/replay {since, status?}` and
`POST /{id}/test`. Lists are Spring pages (`page`, `size`).

**Secrets.** `whsec_` + base64 of 24 random bytes, shown by create and rotate-secret and at
`GET /{id}/secret`; never in lists or `GET /{id}`.

**Event types.** `NEW_TRANSACTION`, `TRANSACTION_STATUS_UPDATE`, `CASHBACK_VALUE_CHANGE` (a
publisher's transactions); `STORE_ADDED`, `STORE_REMOVED`, `STORE_CASHBACK_CHANGE`,
`STORE_TERMS_CHANGE`, `STORE_COUNTRY_CHANGE` (the catalog, to every subscribed tenant);
`IMPORT_FINISHED` (a REST or file import finished: `data` = `{importId, entity, source,
fileName, status, message, received, inserted, updated, unchanged, rejected, duplicates,
warnings, createdAt, finishedAt}`; a tenant's imports arrive in the order they finished);
`LOYALTY_NOTIFICATION` (a loyalty notification was produced: `data` = the item as
`GET /loyalty-api/api/notifications` lists it; unordered). `WEBHOOK_TEST` is only sent by
`POST /{id}/test`, to that endpoint, whatever it subscribed to: `data` = `{endpointId,
message}`. Events are written in the transaction of the change that caused them, only for
enabled endpoints subscribed at that moment (a disabled endpoint misses what happens while it
is disabled).

**Requests.** `POST` to the URL with the body `{"eventType": ..., "data": ...}` (compact JSON)
and the headers `webhook-id` (the event's `msg_…` id: the same on every attempt and replay; use
it to deduplicate), `webhook-timestamp` (Unix seconds of the attempt, wall clock),
`webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the secret),
`Content-Type: application/json`, `User-Agent: Retailhub-Webhooks`. Redirects are not
followed. Any 2xx within the timeout (`RETAILHUB_WEBHOOK_TIMEOUT_SECONDS`, default 15 s,
covering the whole exchange) is a success; anything else (network error, timeout, 3xx, 4xx,
5xx) is a failed attempt.

**Retries.** After the n-th failed attempt the next one is due after the n-th value of
`RETAILHUB_WEBHOOK_RETRY_SCHEDULE` (default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h,
24 h; the last value repeats), lengthened by up to 10 % of jitter. A `Retry-After` answer
(delta-seconds or HTTP-date) that asks for a later time is honoured, up to 24 h. A failed
attempt made more than `RETAILHUB_WEBHOOK_RETRY_HOURS` (default 80 h) after the delivery's
first attempt makes the delivery `failed` (so at least 3 days of retries). Every attempt is
logged: time, status code, error, duration and the first 1,000 characters of the answer.

**Ordering.** Events sharing an ordering key (a tenant's imports; the catalog and transaction
events choose theirs) reach each endpoint one at a time, in the order they were emitted: a
delivery waits while an older pending one of the same endpoint and key exists (a `failed` one
no longer blocks). Events without a key are unordered.

**Isolation.** Each dispatcher sends at most `RETAILHUB_WEBHOOK_CONCURRENCY` (default 32)
requests at once and at most `RETAILHUB_WEBHOOK_ENDPOINT_CONCURRENCY` (default 4, counted
across dispatchers) to one endpoint, claiming round-robin across endpoints: a slow endpoint
delays only its own deliveries. Every `retailhub worker` (and `serve` with workers) runs a
dispatcher; on PostgreSQL they share the work (`FOR UPDATE SKIP LOCKED`) without delivering
one delivery twice at the same time. An idle dispatcher looks for due deliveries every
`RETAILHUB_WEBHOOK_POLL_SECONDS` (default 1 s). Delivery is at least once: a receiver must
deduplicate by `webhook-id`.

**Auto-disable.** An endpoint whose attempts have all failed for
`RETAILHUB_WEBHOOK_DISABLE_AFTER_HOURS` (default 120 h) since its last success is disabled
(`enabled: false`, `disabledReason`, `disabledAt`). Its pending deliveries wait; `PATCH
{"enabled": true}` re-enables it and they go out again (one more failure of a delivery past its
retry window makes it `failed`).

**Replay.** `POST /{id}/deliveries/{deliveryId}/replay` makes a delivery pending and due now,
with a fresh retry schedule and window; `POST /{id}/replay {"since": ISO 8601, "status":
"failed" | "delivered"}` (default `failed`) does so for every delivery of the endpoint created
since then and answers `{replayed}`. The `webhook-id` stays the same.
"""
