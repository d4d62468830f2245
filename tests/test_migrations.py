"""The schema built by the migrations is the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from retailhub.db import get_engine
from retailhub.models import Base


def test_migrations_match_models(migrated: None) -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                # Procrastinate's own tables are installed by the migration, not modelled.
                "include_name": lambda name, kind, _parent: (
                    not (kind == "table" and str(name).startswith("procrastinate"))
                ),
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
