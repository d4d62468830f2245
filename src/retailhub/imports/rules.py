"""Rules beyond the Swagger schema, shared by the REST and file imports: the product data
rules of Listrak's product schema specification (``shared/seeds/listrak-product-schema.txt``).

Each rule looks at one record that already passed its schema, and answers with issues:
errors reject the record, warnings (the document's soft guidance) are reported beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from retailhub.imports.issues import Issue, render_value

Rule = Callable[[dict[str, Any]], list[Issue]]

URL_FIELDS = ("imageUrl", "linkUrl", "reviewURL")
GENDERS = ("M", "F", "N")
RELATED_MAX_LENGTH = 100
RELATED_RANKS = range(1, 26)
PLACEHOLDERS = frozenset({"n/a", "na", "none", "null", "nil", "-", "tbd", "unknown"})
PLACEHOLDER_FIELDS = ("brand", "category", "subCategory", "color", "style", "size")
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|&(?:[a-zA-Z]+|#\d+);")
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)
_LONGEST_PLACEHOLDER = max(map(len, PLACEHOLDERS))


def _error(field: str, rule: str, message: str, value: Any) -> Issue:
    return Issue("error", field, rule, message, render_value(value))


def _warning(field: str, rule: str, message: str, value: Any) -> Issue:
    return Issue("warning", field, rule, message, render_value(value))


def product(record: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    for name in URL_FIELDS:
        url = record.get(name)
        if url is not None and not _WEB_URL.match(url):
            issues.append(_error(name, "url", f"{name} must begin with http:// or https://.", url))
    gender = record.get("gender")
    if gender is not None:
        if gender in GENDERS:
            pass
        elif gender.strip().upper() in GENDERS:
            record["gender"] = gender.strip().upper()
        else:
            issues.append(
                _error(
                    "gender", "enum", "gender must be M, F or N (Neither/Not Applicable).", gender
                )
            )
    price, sale = record.get("price"), record.get("salePrice")
    if price is not None and sale is not None and not sale < price:
        issues.append(
            _error(
                "salePrice", "lessThanPrice", f"salePrice must be less than price ({price}).", sale
            )
        )
    start, end = record.get("saleStartDate"), record.get("saleEndDate")
    if start is not None and end is not None and not start < end:
        issues.append(
            _error(
                "saleStartDate",
                "dateOrder",
                "saleStartDate must be before saleEndDate.",
                f"{start.isoformat()} / {end.isoformat()}",
            )
        )
    for n, related in enumerate(record.get("relatedProducts") or ()):
        rank = related.get("rank")
        if rank is not None and rank not in RELATED_RANKS:
            issues.append(
                _error(f"relatedProducts[{n}].rank", "range", "rank must be from 1 to 25.", rank)
            )
        for part in ("sku", "type"):
            text = related.get(part)
            if text is not None and len(text) > RELATED_MAX_LENGTH:
                issues.append(
                    _error(
                        f"relatedProducts[{n}].{part}",
                        "maxLength",
                        f"String should have at most {RELATED_MAX_LENGTH} characters",
                        text,
                    )
                )
    if issues:
        return issues
    return _product_guidance(record)


def _product_guidance(record: dict[str, Any]) -> list[Issue]:
    """The document's soft guidance: reported, never a rejection."""
    issues: list[Issue] = []
    title = record.get("title")
    if title:
        # isupper(): some cased character, none lowercase; then count the letters.
        if title.isupper() and sum(c.isalpha() for c in title) >= 4:
            issues.append(
                _warning("title", "allCaps", "Avoid titles in FULL CAPITALIZATION.", title)
            )
        if ("<" in title or "&" in title) and _HTML.search(title):
            issues.append(_warning("title", "html", "Avoid HTML in the title.", title))
    for name in PLACEHOLDER_FIELDS:
        value = record.get(name)
        if (
            value is not None
            and len(value) <= _LONGEST_PLACEHOLDER + 2
            and value.strip().lower() in PLACEHOLDERS
        ):
            issues.append(
                _warning(
                    name,
                    "placeholder",
                    f"Leave {name} blank rather than a placeholder such as N/A or None.",
                    value,
                )
            )
    if record.get("onSale") is not None and (
        record.get("saleStartDate") is not None or record.get("saleEndDate") is not None
    ):
        issues.append(
            _warning(
                "onSale",
                "onSaleWithDates",
                "Give onSale or the sale dates, not both; the sale dates decide.",
                record["onSale"],
            )
        )
    return issues


RULES: dict[str, Rule] = {"Product": product}
