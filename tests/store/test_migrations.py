"""The migrations build exactly the tables the models declare, on SQLite and PostgreSQL.

`test_migrated_database_matches_models` is the guard that fails the build when a model changes
without a migration: run `flowdeck db revision --message "..."` to write the missing one.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel, select
from sqlmodel.sql.sqltypes import AutoString

from store import models
from store.db import create_db_engine, session_scope
from store.migrate import (
    MIGRATIONS_DIR,
    NothingToMigrate,
    alembic_config,
    current_heads,
    revision,
    upgrade,
)


def _differences(engine: Engine, metadata: sa.MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same backend as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"fresh_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


def test_migrated_database_matches_models(database_url: str, engine: Engine) -> None:
    upgrade(database_url)

    differences = _differences(engine, SQLModel.metadata)

    assert differences == [], (
        "store/models.py and the migrations disagree; write a migration with "
        f"`flowdeck db revision --message ...`: {differences}"
    )


def test_comparison_notices_a_model_change_without_migration(engine: Engine) -> None:
    changed = sa.MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["tenant"].append_column(sa.Column("plan", sa.String(32), nullable=True))

    differences = _differences(engine, changed)

    assert [(d[0], d[3].name) for d in differences] == [("add_column", "plan")]


def test_upgrade_builds_an_empty_database_and_is_idempotent(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)
    engine = create_db_engine(fresh_database_url)
    try:
        with session_scope(engine) as session:
            session.add(models.Tenant(name="Kept across upgrades"))

        upgrade(fresh_database_url)
        upgrade(fresh_database_url)

        assert _tables(engine) == set(SQLModel.metadata.tables) | {"alembic_version"}
        assert (_revision(engine),) == current_heads()
        with session_scope(engine) as session:
            names = session.exec(select(models.Tenant.name)).all()
        assert names == ["Kept across upgrades"]
        assert _differences(engine, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)
    engine = create_db_engine(fresh_database_url)
    try:
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "base")
            connection.commit()

        assert _tables(engine) == {"alembic_version"}
        assert _revision(engine) is None
    finally:
        engine.dispose()


def test_revision_writes_a_self_contained_migration_for_a_model_change(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    # A table as a model would declare it, with our own column types.
    table = sa.Table(
        "scratch_note",
        SQLModel.metadata,
        sa.Column("id", AutoString(32), primary_key=True),
        sa.Column("body", AutoString()),
        sa.Column("noted_at", models.UTCDateTime(), nullable=False, index=True),
    )
    try:
        path = revision(message="add scratch note", directory=directory)
        database_url = f"sqlite:///{tmp_path / 'upgraded.db'}"
        upgrade(database_url, directory=directory)
        engine = create_db_engine(database_url)
        differences = _differences(engine, SQLModel.metadata)
        engine.dispose()
    finally:
        SQLModel.metadata.remove(table)

    existing = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    head = existing[-1][:4]
    assert path.name == f"{int(head) + 1:04d}_add_scratch_note.py"
    assert differences == []
    text = path.read_text()
    assert f"down_revision: str | Sequence[str] | None = '{head}'" in text
    assert "sa.Column('noted_at', sa.DateTime(), nullable=False)" in text
    assert "sa.Column('id', sa.String(length=32), nullable=False)" in text
    assert "store." not in text
    assert "sqlmodel" not in text


def test_revision_without_model_changes_writes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))

    with pytest.raises(NothingToMigrate):
        revision(message="nothing changed", directory=directory)

    assert sorted(p.name for p in (directory / "versions").glob("*.py")) == sorted(
        p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")
    )


def test_migrations_import_nothing_of_ours() -> None:
    """A migration must keep working after the models it was written from have changed."""
    scripts = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))

    assert scripts, "no migration scripts found"
    for script in scripts:
        text = script.read_text()
        for forbidden in ("import store", "from store", "sqlmodel", "schemas"):
            assert forbidden not in text, f"{script.name} refers to {forbidden!r}"


def test_processes_starting_together_migrate_once(fresh_database_url: str) -> None:
    """The API and the worker upgrade at startup; starting at the same moment must not fail."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(upgrade, [fresh_database_url] * 3))

    assert results == [None, None, None]
    engine = create_db_engine(fresh_database_url)
    try:
        assert (_revision(engine),) == current_heads()
        assert _differences(engine, SQLModel.metadata) == []
    finally:
        engine.dispose()
