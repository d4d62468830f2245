"""The application's own OpenAPI document keeps the seed's operationIds and our choices."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_openapi_document(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    operations = {
        op["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    assert operations["Customer_PostCustomerCollection"] == ("POST", "/data/v1/Customer")
    assert operations["Order_PostOrderCollection"] == ("POST", "/data/v1/Order")
    assert operations["Product_PostProductCollection"] == ("POST", "/data/v1/Product")
    assert operations["RatingSummary_PostRatingSummaryCollection"] == (
        "POST",
        "/data/v1/RatingSummary",
    )
    assert operations["Review_PostReviewCollection"] == ("POST", "/data/v1/Review")
    assert operations["Import_GetImport"] == ("GET", "/data/v1/Import/{resourceId}")
    assert "Duplicate keys in one payload" in document["info"]["description"]
    assert client.get("/docs").status_code == 200
