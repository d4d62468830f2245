"""Campaign constraints as pure functions: parsing (values per field and op), SQL compilation
on both dialects, and the Python evaluator used by explain."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from retailhub.errors import DomainError
from retailhub.loyalty.campaign import constraints as cons


def facts(**over: Any) -> cons.AccountFacts:
    data: dict[str, Any] = {
        "counters": {},
        "properties": {},
        "tags": set(),
        "venues": {},
        "first_name": None,
        "created": None,
        "last_order": None,
        "birthdate": None,
    }
    data.update(over)
    return cons.AccountFacts(**data)


def met(field: str, op: str, value: list[str], **over: Any) -> bool:
    return cons.evaluate(cons.parse(field, op, value, loc="c"), facts(**over))


class TestParse:
    def test_kinds(self) -> None:
        assert cons.parse("counters.orders", "GT", ["2"], loc="c").values == (2.0,)
        assert cons.parse("properties.plan", "EQ", ["gold"], loc="c").kind == "property"
        assert cons.parse("properties.age", "GT", ["4.5"], loc="c").values == (4.5,)
        assert cons.parse("tags.vip", "EQ", ["false"], loc="c").values == (False,)
        assert cons.parse("venues.S1", "GTE", ["1"], loc="c").kind == "venue"
        assert cons.parse("header.birthdate", "EQ", ["2000-02-29"], loc="c").values == (
            date(2000, 2, 29),
        )
        day = cons.parse("header.created", "EQ", ["2030-01-05"], loc="c").values[0]
        assert (day.lo, day.hi) == (
            datetime(2030, 1, 5, tzinfo=UTC),
            datetime(2030, 1, 6, tzinfo=UTC),
        )
        instant = cons.parse("header.lastOrder", "GT", ["2030-01-05T10:00:00+02:00"], loc="c")
        assert instant.values[0].lo == datetime(2030, 1, 5, 8, tzinfo=UTC)
        assert instant.values[0].point

    @pytest.mark.parametrize(
        ("field", "op", "value", "where"),
        [
            ("header.email", "EQ", ["x"], "c.field"),
            ("counters.a.b", "EQ", ["1"], "c.field"),
            ("counters.orders", "LIKE", ["1"], "c.op"),
            ("counters.orders", "EQ", [], "c.value"),
            ("counters.orders", "EQ", ["1", "2"], "c.value"),
            ("counters.orders", "IN", [], "c.value"),
            ("tags.vip", "EXISTS", ["1"], "c.value"),
            ("properties.p", "IN", ["a"] * 17, "c.value"),
            ("counters.orders", "GT", ["1e3"], "c.value[0]"),
            ("counters.orders", "IN", ["1", "two"], "c.value[1]"),
            ("properties.age", "LT", ["old"], "c.value[0]"),
            ("tags.vip", "EQ", ["yes"], "c.value[0]"),
            ("tags.vip", "IN", ["true"], "c.op"),
            ("header.firstName", "GT", ["A"], "c.op"),
            ("header.created", "GT", ["2030-13-01"], "c.value[0]"),
            ("header.birthdate", "EQ", ["1990-01-01T00:00:00"], "c.value[0]"),
        ],
    )
    def test_refused(self, field: str, op: str, value: list[str], where: str) -> None:
        with pytest.raises(DomainError) as caught:
            cons.parse(field, op, value, loc="c")
        assert caught.value.field == where
        assert caught.value.message.startswith(where + ": ")


class TestEvaluate:
    def test_counters_default_to_zero(self) -> None:
        assert met("counters.orders", "EQ", ["0"])
        assert met("counters.orders", "LT", ["1"])
        assert not met("counters.orders", "EXISTS", [])
        assert met("counters.orders", "GTE", ["3"], counters={"orders": 3})
        assert met("counters.orders", "IN", ["1", "3"], counters={"orders": 3})
        assert not met("counters.orders", "NE", ["3"], counters={"orders": 3})

    def test_properties(self) -> None:
        assert met("properties.plan", "EQ", ["gold"], properties={"plan": "gold"})
        assert met("properties.plan", "NE", ["gold"])  # missing satisfies NE only
        assert not met("properties.plan", "EQ", ["gold"])
        assert not met("properties.plan", "IN", ["gold"])
        assert met("properties.flag", "EQ", ["true"], properties={"flag": True})
        assert met("properties.age", "GT", ["10"], properties={"age": "42"})
        assert not met("properties.age", "GT", ["10"], properties={"age": "forty"})
        assert not met("properties.age", "LT", ["10"])

    def test_tags_and_venues(self) -> None:
        assert met("tags.vip", "EXISTS", [], tags={"vip"})
        assert met("tags.vip", "EQ", ["false"])
        assert met("tags.vip", "NE", ["false"], tags={"vip"})
        assert met("venues.S1", "EXISTS", [], venues={"S1": 1})
        assert met("venues.S1", "GT", ["2"], venues={"S1": 3})
        assert met("venues.S2", "EQ", ["0"], venues={"S1": 3})

    def test_dates(self) -> None:
        at = datetime(2030, 1, 5, 10, tzinfo=UTC)
        assert met("header.lastOrder", "EQ", ["2030-01-05"], last_order=at)
        assert not met("header.lastOrder", "GT", ["2030-01-05"], last_order=at)
        assert met("header.lastOrder", "LTE", ["2030-01-05"], last_order=at)
        assert met("header.lastOrder", "GTE", ["2030-01-05T10:00:00Z"], last_order=at)
        assert met("header.lastOrder", "NE", ["2030-01-04"], last_order=at)
        assert met("header.lastOrder", "NE", ["2030-01-04"])
        # SQLite hands back naive datetimes: they are UTC.
        assert met("header.created", "LT", ["2030-01-06"], created=datetime(2030, 1, 5))
        assert met("header.birthdate", "LT", ["2000-01-01"], birthdate=date(1999, 12, 31))
        assert not met("header.birthdate", "LT", ["2000-01-01"])

    def test_actual_values(self) -> None:
        cond = cons.parse("properties.flag", "EQ", ["true"], loc="c")
        assert cons.actual(cond, facts(properties={"flag": True})) == "true"
        cond = cons.parse("tags.vip", "EXISTS", [], loc="c")
        assert cons.actual(cond, facts(tags={"vip"})) is True


class TestCompile:
    def sql(self, field: str, op: str, value: list[str], *, pg: bool) -> str:
        cond = cons.parse(field, op, value, loc="c")
        dialect = postgresql.dialect() if pg else sqlite.dialect()
        return str(cons.to_sql(cond, pg=pg).compile(dialect=dialect))

    def test_counter_is_numeric_with_zero_default(self) -> None:
        text = self.sql("counters.orders", "GT", ["2"], pg=True)
        assert "coalesce(CAST((loyalty_accounts.counters ->>" in text
        assert "AS FLOAT)" in text

    def test_tags_are_an_exists(self) -> None:
        text = self.sql("tags.vip", "EXISTS", [], pg=False)
        assert text.startswith("EXISTS (SELECT 1")
        assert "loyalty_account_tags.tag = ?" in text
        assert self.sql("tags.vip", "EQ", ["false"], pg=True).startswith("NOT (EXISTS")

    def test_property_numbers_are_guarded(self) -> None:
        assert " ~ " in self.sql("properties.age", "GT", ["1"], pg=True)
        assert "REGEXP" in self.sql("properties.age", "GT", ["1"], pg=False)
        assert "json_type" in self.sql("properties.plan", "EQ", ["x"], pg=False)

    def test_ne_matches_missing(self) -> None:
        assert "IS NULL OR" in self.sql("properties.plan", "NE", ["x"], pg=True)

    def test_constraints_are_anded(self) -> None:
        conds = [
            cons.parse("tags.vip", "EXISTS", [], loc="c"),
            cons.parse("header.firstName", "EQ", ["Ann"], loc="c"),
        ]
        text = str(cons.where(conds, pg=True).compile(dialect=postgresql.dialect()))
        assert " AND loyalty_accounts.first_name = " in text
        assert str(cons.where([], pg=True).compile(dialect=postgresql.dialect())) == "true"
