"""POST /data/v1/Review and /data/v1/RatingSummary."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant


def review(review_id: str, product: str = "P1", **fields: Any) -> dict[str, Any]:
    return {
        "provider": "Yotpo",
        "providerReviewID": review_id,
        "providerProductID": product,
        "title": "Great",
        "featured": False,
        "recommended": True,
        "ratings": [
            {
                "displayType": "stars",
                "providerRatingID": "overall",
                "ratingMax": 5,
                "ratingMin": 1,
                "ratingValue": 4.5,
                "type": "overall",
            }
        ],
        **fields,
    }


class TestReviews:
    def test_upsert_by_provider_and_review_id(self, tenant: Tenant) -> None:
        result = tenant.run("Review", [review("R1"), review("R2"), review("R3", product="P2")])
        assert result["counts"]["inserted"] == 3
        again = tenant.run("Review", [review("R1", title="Changed"), review("R2")])
        assert (again["counts"]["updated"], again["counts"]["unchanged"]) == (1, 1)
        listed = tenant.get("/data/v1/Review", providerProductID="P1").json()["data"]
        assert sorted((r["providerReviewID"], r["title"]) for r in listed) == [
            ("R1", "Changed"),
            ("R2", "Great"),
        ]
        assert listed[0]["ratings"][0]["ratingValue"] == 4.5

    def test_required_fields_and_nested_ratings(self, tenant: Tenant) -> None:
        bad_rating = review("R5")
        del bad_rating["ratings"][0]["providerRatingID"]
        no_title = review("R6")
        del no_title["title"]
        result = tenant.run(
            "Review",
            [
                bad_rating,
                no_title,
                review("R7", featured=None),
                review("R8", provider="p" * 51),
                review("R9"),
            ],
        )
        assert result["counts"]["inserted"] == 1
        errors = tenant.errors(result["resourceId"], severity="error")
        assert [(e["index"], e["field"], e["rule"]) for e in errors] == [
            (0, "ratings[0].providerRatingID", "required"),
            (1, "title", "required"),
            (2, "featured", "required"),
            (3, "provider", "maxLength"),
        ]


class TestRatingSummaries:
    def test_one_row_per_summary_field(self, tenant: Tenant) -> None:
        record = {
            "provider": "Yotpo",
            "providerProductID": "P1",
            "ratingSummaries": [
                {"providerRatingSummaryID": "overall", "rating": 4.2, "count": 10},
                {"providerRatingSummaryID": "fit", "rating": 3.9},
            ],
        }
        result = tenant.run("RatingSummary", [record])
        assert result["counts"]["inserted"] == 1
        listed = tenant.get("/data/v1/RatingSummary", providerProductID="P1").json()["data"]
        assert sorted((s["providerRatingSummaryID"], s["rating"]) for s in listed) == [
            ("fit", 3.9),
            ("overall", 4.2),
        ]
        again = tenant.run("RatingSummary", [record])
        assert again["counts"]["unchanged"] == 1
        record["ratingSummaries"][1]["rating"] = 4.0
        changed = tenant.run("RatingSummary", [record])
        assert changed["counts"]["updated"] == 1

    def test_rules(self, tenant: Tenant) -> None:
        result = tenant.run(
            "RatingSummary",
            [
                {"provider": "Y", "providerProductID": "P", "ratingSummaries": [{"rating": 1}]},
                {
                    "provider": "Y",
                    "providerProductID": "P2",
                    "ratingSummaries": [{"providerRatingSummaryID": "o"}],
                },
                {"providerProductID": "P", "ratingSummaries": []},
                {"provider": "Y", "providerProductID": "x" * 101},
            ],
        )
        errors = tenant.errors(result["resourceId"], severity="error")
        assert [(e["index"], e["field"], e["rule"]) for e in errors] == [
            (0, "ratingSummaries[0].providerRatingSummaryID", "required"),
            (1, "ratingSummaries[0].rating", "required"),
            (2, "provider", "required"),
            (3, "providerProductID", "maxLength"),
        ]
        assert result["status"] == "failed"
