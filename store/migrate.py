"""Bring a database to the newest schema."""

from __future__ import annotations

from sqlmodel import SQLModel

from store import models  # noqa: F401  (registers the tables)
from store.db import create_db_engine


def upgrade(database_url: str) -> None:
    """Placeholder until the Alembic migrations land: creates the tables directly."""
    engine = create_db_engine(database_url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
