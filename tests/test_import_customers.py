"""POST /data/v1/Customer: matching on customerNumber and email."""

from __future__ import annotations

from tests.conftest import Tenant

# The body the real Listrak service accepted (recorded traffic).
LISTRAK_CUSTOMER = {
    "address": {
        "address1": "22 S. 3rd St.",
        "address2": "Second Floor",
        "city": "Philadelphia",
        "country": "United States of America",
        "state": "PA",
    },
    "customerNumber": "5c38f88787c68bbe993a",
    "email": "user0@workarea.com",
    "firstName": "Ben",
    "lastName": "Crouse",
    "registered": True,
    "zipCode": "19106",
}


class TestCustomers:
    def test_listrak_recorded_body(self, tenant: Tenant) -> None:
        result = tenant.run("Customer", [LISTRAK_CUSTOMER])
        assert result["status"] == "succeeded"
        assert result["counts"]["inserted"] == 1
        by_number = tenant.get("/data/v1/Customer/5c38f88787c68bbe993a").json()["data"]
        assert by_number == LISTRAK_CUSTOMER
        by_email = tenant.get("/data/v1/Customer/USER0@workarea.com").json()["data"]
        assert by_email == LISTRAK_CUSTOMER
        listed = tenant.get("/data/v1/Customer", email="User0@Workarea.com").json()["data"]
        assert listed == [LISTRAK_CUSTOMER]

    def test_matched_by_email_case_insensitively(self, tenant: Tenant) -> None:
        tenant.run("Customer", [{"email": "Ann@Example.com", "firstName": "Ann"}])
        result = tenant.run("Customer", [{"email": "ann@example.COM", "firstName": "Anna"}])
        assert (result["counts"]["updated"], result["counts"]["inserted"]) == (1, 0)
        assert tenant.get("/data/v1/Customer/ann@example.com").json()["data"]["firstName"] == "Anna"

    def test_number_given_later_attaches_to_the_email_match(self, tenant: Tenant) -> None:
        tenant.run("Customer", [{"email": "cy@example.com"}])
        result = tenant.run("Customer", [{"email": "cy@example.com", "customerNumber": "C-9"}])
        assert result["counts"]["updated"] == 1
        assert tenant.get("/data/v1/Customer/C-9").json()["data"]["email"] == "cy@example.com"

    def test_email_change_follows_the_customer_number(self, tenant: Tenant) -> None:
        tenant.run("Customer", [{"email": "old@example.com", "customerNumber": "C-1"}])
        result = tenant.run("Customer", [{"email": "new@example.com", "customerNumber": "C-1"}])
        assert result["counts"]["updated"] == 1
        assert tenant.get("/data/v1/Customer", email="old@example.com").json()["data"] == []
        listed = tenant.get("/data/v1/Customer", customerNumber="C-1").json()["data"]
        assert [c["email"] for c in listed] == ["new@example.com"]

    def test_number_and_email_of_two_customers_is_a_conflict(self, tenant: Tenant) -> None:
        tenant.run(
            "Customer",
            [
                {"email": "a@example.com", "customerNumber": "A"},
                {"email": "b@example.com", "customerNumber": "B"},
            ],
        )
        result = tenant.run(
            "Customer",
            [{"email": "b@example.com", "customerNumber": "A"}, {"email": "c@example.com"}],
        )
        assert result["status"] == "partially_failed"
        assert (result["counts"]["rejected"], result["counts"]["inserted"]) == (1, 1)
        (error,) = tenant.errors(result["resourceId"], severity="error")
        assert (error["index"], error["field"], error["rule"]) == (0, "email", "conflict")
        assert tenant.get("/data/v1/Customer/A").json()["data"]["email"] == "a@example.com"

    def test_needs_email_or_number(self, tenant: Tenant) -> None:
        result = tenant.run("Customer", [{"firstName": "Nobody"}])
        assert result["status"] == "failed"
        (error,) = tenant.errors(result["resourceId"])
        assert (error["index"], error["field"], error["rule"]) == (0, "email", "required")

    def test_same_customer_twice_in_a_payload_last_wins(self, tenant: Tenant) -> None:
        result = tenant.run(
            "Customer",
            [
                {"customerNumber": "Z1", "email": "z@example.com", "firstName": "First"},
                {"email": "z@example.com", "firstName": "Second"},
            ],
        )
        assert (result["counts"]["inserted"], result["counts"]["updated"]) == (1, 1)
        assert result["counts"]["duplicates"] == 1
        (warning,) = tenant.errors(result["resourceId"], severity="warning")
        assert (warning["index"], warning["rule"]) == (0, "duplicate")
        listed = tenant.get("/data/v1/Customer", email="z@example.com").json()["data"]
        assert [c["firstName"] for c in listed] == ["Second"]

    def test_number_and_email_reaching_one_customer_in_one_batch(self, tenant: Tenant) -> None:
        tenant.run("Customer", [{"email": "m@example.com", "customerNumber": "M1"}])
        result = tenant.run(
            "Customer",
            [
                {"customerNumber": "M1", "firstName": "ByNumber"},
                {"email": "m@example.com", "firstName": "ByEmail"},
            ],
        )
        assert (result["counts"]["updated"], result["counts"]["inserted"]) == (2, 0)
        assert tenant.get("/data/v1/Customer/M1").json()["data"]["firstName"] == "ByEmail"

    def test_field_rules(self, tenant: Tenant) -> None:
        result = tenant.run(
            "Customer",
            [
                {"email": "e" * 101},
                {"email": "ok@example.com", "customerNumber": "n" * 21},
                {"email": "ok2@example.com", "loyalty": {"availablePoints": "lots"}},
                {"email": "ok3@example.com", "social": {"twitterID": "t" * 101}},
                {"email": "ok4@example.com", "birthday": "31/12/1990"},
                {"email": "fine@example.com", "loyalty": {"availablePoints": 10}},
            ],
        )
        assert result["counts"]["inserted"] == 1
        errors = tenant.errors(result["resourceId"], severity="error")
        assert [(e["index"], e["field"], e["rule"]) for e in errors] == [
            (0, "email", "maxLength"),
            (1, "customerNumber", "maxLength"),
            (2, "loyalty.availablePoints", "type"),
            (3, "social.twitterID", "maxLength"),
            (4, "birthday", "format"),
        ]
