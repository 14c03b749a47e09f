"""Bring a database to the newest schema with Alembic, configured in code (no alembic.ini).

The migrations live in `store/migrations/versions/` and ship inside the package, so an
installed Flowdeck can migrate its database without the source tree.

Changing a table (every table is declared in `store/models.py`):

    .venv/bin/flowdeck db revision --message "add contact tags"

autogenerates the next migration by comparing the models with a scratch SQLite database
brought to the current head; read the generated file in `store/migrations/versions/`, then
`.venv/bin/flowdeck db upgrade` applies it to `DATABASE_URL` (the run command, the API and the
worker also upgrade at startup). `tests/store/test_migrations.py` fails the build while the
models and the migrations disagree. Until a first release, the initial migration may instead
be rewritten: delete `versions/0001_initial_schema.py`, then `flowdeck db revision -m "initial
schema"`.
"""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url

from store.db import create_db_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class NothingToMigrate(Exception):
    """The models and the migrations already agree."""


# Any constant works: it only has to be the same in every process that migrates.
_PG_LOCK_ID = 0x666C6F77  # "flow"


def alembic_config(
    connection: Connection | None = None, *, directory: Path = MIGRATIONS_DIR
) -> Config:
    """Alembic's configuration; env.py uses `connection` when one is given."""
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


@contextmanager
def _sqlite_lock(database_url: str) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (a lock file beside it)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        yield
        return
    with Path(f"{url.database}.migrate-lock").open("a") as lock:
        # Released when the file closes. Also covers the first connection's switch to WAL,
        # which fails instead of waiting when another connection is open.
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def upgrade(database_url: str, *, directory: Path = MIGRATIONS_DIR) -> None:
    """Run `alembic upgrade head` on this database; a no-op when it is already current."""
    with _sqlite_lock(database_url):
        _upgrade(database_url, directory)


def _upgrade(database_url: str, directory: Path) -> None:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # The API and worker pods start together: one migrates, the others wait here.
                connection.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK_ID})")
                connection.commit()
            try:
                command.upgrade(alembic_config(connection, directory=directory), "head")
                connection.commit()
            finally:
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_ID})")
                    connection.commit()
    finally:
        engine.dispose()


def current_heads() -> tuple[str, ...]:
    """The head revision ids of the migration scripts."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def revision(*, message: str, directory: Path = MIGRATIONS_DIR) -> Path:
    """Autogenerate the next migration from the models; returns the new file's path.

    The comparison runs against a scratch SQLite database brought to the current head, so it
    neither needs nor touches a real database.
    """
    script = ScriptDirectory.from_config(alembic_config(directory=directory))
    next_id = f"{len(list(script.walk_revisions())) + 1:04d}"
    with tempfile.TemporaryDirectory(prefix="flowdeck-revision-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'scratch.db'}"
        upgrade(url, directory=directory)
        engine = create_db_engine(url)
        try:
            with engine.connect() as connection:
                result = command.revision(
                    alembic_config(connection, directory=directory),
                    message=message,
                    autogenerate=True,
                    rev_id=next_id,
                )
        finally:
            engine.dispose()
    if result is None or result == []:
        raise NothingToMigrate("the migrations already match store/models.py: nothing to write")
    if isinstance(result, list):
        raise RuntimeError(f"alembic wrote {len(result)} revisions instead of one")
    return Path(result.path)
