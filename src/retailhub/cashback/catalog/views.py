"""The catalog's JSON, in the document's shapes. Rows come from ``repository``; the links a
publisher sees carry its ``cid`` and this server's base URL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from retailhub.kit.timeutil import iso


@dataclass(frozen=True)
class Links:
    """Where this server is reached (no trailing slash) and who is asking (None: the
    operator, whose answers carry no tracking link)."""

    base: str
    cid: int | None

    def tracking(self, store_id: int) -> str | None:
        if self.cid is None:
            return None
        return f"{self.base}/cashback/v1/stores/{store_id}/tracking?cid={self.cid}&cp="

    def logo(self, row: dict[str, Any]) -> str | None:
        if not row["has_logo"]:
            return None
        return f"{self.base}/cashback/resources/stores/{row['id']}/logo"


def number(value: Decimal | str) -> int | float:
    """A commission value as a JSON number, as the document shows it (``1.80`` → 1.8)."""
    exact = Decimal(value)
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def _commission(value: Decimal | str, format_: str) -> dict[str, Any]:
    return {"value": number(value), "format": format_}


def _details(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": d["name"],
            "commission": _commission(d["commission"]["value"], d["commission"]["format"]),
        }
        for d in details
    ]


def store(row: dict[str, Any], links: Links) -> dict[str, Any]:
    """A store as ``GET v1/stores/<ID>`` shows it."""
    return {
        "id": row["id"],
        "name": row["name"],
        "url": row["url"],
        "seoFriendlyId": row["seo_friendly_id"],
        "language": row["language"],
        "description": row["description"],
        "trackingUrl": links.tracking(row["id"]),
        "imageUrl": links.logo(row),
        "commission": _commission(row["commission_value"], row["commission_format"]),
        "commissionDetails": _details(row["commission_details"]),
        "home": row["home"],
        "countries": row["countries"],
        "categories": row["categories"],
        "storeTerms": row["store_terms"],
        "generalTerms": row["general_terms"],
        "specificTerms": row["specific_terms"],
    }


def admin_store(row: dict[str, Any], links: Links) -> dict[str, Any]:
    """The operator's view: the publisher's fields (no tracking link) and everything else."""
    body = store(row, links)
    del body["trackingUrl"]
    return body | {
        "tags": row["tags"],
        "address": row["address"],
        "alternativeContent": row["alternative_content"],
        "active": row["active"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }


def store_summary(row: dict[str, Any], links: Links) -> dict[str, Any]:
    """A store as the store search lists it."""
    return {
        "id": row["id"],
        "name": row["name"],
        "url": row["url"],
        "commission": _commission(row["commission_value"], row["commission_format"]),
        "description": row["description"],
        "language": row["language"],
        "trackingUrl": links.tracking(row["id"]),
        "imageUrl": links.logo(row),
        "countries": row["countries"],
    }


def address(store_id: int, value: dict[str, Any]) -> dict[str, Any]:
    return {"storeId": store_id} | {
        k: value.get(k) for k in ("line1", "line2", "city", "region", "zip", "country")
    }


def deal(row: dict[str, Any], links: Links) -> dict[str, Any]:
    tracking = links.tracking(row["store_id"])
    return {
        "id": row["id"],
        "storeId": row["store_id"],
        "storeName": row["store_name"],
        "title": row["title"],
        "description": row["description"],
        "dealType": row["deal_type"],
        "couponCode": row["coupon_code"],
        "trackingUrl": f"{tracking}&dealId={row['id']}" if tracking else None,
        "startDate": iso(row["start_date"]),
        "endDate": iso(row["end_date"]),
        "lastUpdate": iso(row["updated_at"]),
    }


def category(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "seoFriendlyId": row["seo_friendly_id"]}
