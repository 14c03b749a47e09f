"""Alembic environment: the target is SQLModel's metadata from `store.models`.

`store.migrate` hands in an open connection through `config.attributes["connection"]`; without
one (a bare `alembic` command), the database is `DATABASE_URL` from the settings.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from schemas.settings import get_settings
from store import models
from store.db import create_db_engine

target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy ones, so migrations import nothing of ours."""
    if type_ != "type":
        return False
    if isinstance(obj, models.UTCDateTime):
        return "sa.DateTime()"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def skip_empty_revision(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """`revision --autogenerate` with nothing to do writes no file."""
    if directives and directives[0].upgrade_ops.is_empty():
        directives.clear()


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch operations copy the table there and are
        # plain ALTERs on PostgreSQL, so one migration serves both backends.
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        process_revision_directives=skip_empty_revision,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = create_db_engine(get_settings().database_url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise NotImplementedError("offline (--sql) migrations are not supported yet")
run_online()
