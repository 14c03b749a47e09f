"""The `postgresql` step against the tests' real PostgreSQL, on a table each test creates."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from schemas.flow import PostgresqlConfig
from tests.activities.conftest import Runner, Seed, free_port
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect


@pytest.fixture
def customers(postgres_url: str) -> Iterator[str]:
    """A table of three customers in the test PostgreSQL: its name."""
    table = f"customers_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as db:
        db.execute(
            sa.text(
                f"CREATE TABLE {table} (id int PRIMARY KEY, email text, name text, "
                "balance numeric(10, 2), since date, tags text[])"
            )
        )
        db.execute(
            sa.text(
                f"INSERT INTO {table} VALUES "
                "(1, 'asha@example.com', 'Asha', 12.50, '2024-01-31', '{vip}'), "
                "(2, 'ben@example.com', 'Ben', 0, '2024-02-01', '{}'), "
                "(3, 'chen@example.com', 'Chen', 7, '2024-03-01', '{new}')"
            )
        )
    yield table
    with engine.begin() as db:
        db.execute(sa.text(f"DROP TABLE {table}"))
    engine.dispose()


def _connect(seed: Seed, postgres_url: str) -> str:
    """The connection's database URL, as a user gives it (`postgresql://…`)."""
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    connect(
        seed, name="shop-db", integration="postgresql", auth="database_url", secret={"url": url}
    )
    return url


async def test_a_query_binds_its_parameters_and_returns_rows(
    runner: Runner, seed: Seed, postgres_url: str, customers: str
) -> None:
    _connect(seed, postgres_url)
    config = {
        "connection": "shop-db",
        "sql": f"SELECT id, name, balance, since, tags FROM {customers} WHERE email = :email",
        "params": {"email": "asha@example.com"},
    }

    output = await runner.perform(seed.action("postgresql", config), **ALLOW_LOOPBACK)

    assert output.port == "success"
    assert output.result == {
        "rows": [
            {"id": 1, "name": "Asha", "balance": 12.5, "since": "2024-01-31", "tags": ["vip"]}
        ],
        "row_count": 1,
        "columns": ["id", "name", "balance", "since", "tags"],
        "truncated": False,
    }


async def test_a_parameter_is_never_sql_and_rows_are_capped(
    runner: Runner, seed: Seed, postgres_url: str, customers: str
) -> None:
    _connect(seed, postgres_url)
    injection = {
        "connection": "shop-db",
        "sql": f"SELECT id FROM {customers} WHERE email = :email",
        "params": {"email": "x' OR '1'='1"},
    }
    capped = {
        "connection": "shop-db",
        "sql": f"SELECT id FROM {customers} ORDER BY id",
        "max_rows": 2,
    }

    found = await runner.perform(seed.action("postgresql", injection), **ALLOW_LOOPBACK)
    listed = await runner.perform(seed.action("postgresql", capped, seq=2), **ALLOW_LOOPBACK)

    assert found.result["rows"] == []
    assert listed.result["rows"] == [{"id": 1}, {"id": 2}]
    assert listed.result["truncated"] is True


async def test_a_write_reports_the_rows_it_changed(
    runner: Runner, seed: Seed, postgres_url: str, customers: str
) -> None:
    _connect(seed, postgres_url)
    config = {
        "connection": "shop-db",
        "sql": f"UPDATE {customers} SET balance = balance + :amount WHERE id = :id",
        "params": {"amount": 5, "id": 3},
    }

    output = await runner.perform(seed.action("postgresql", config), **ALLOW_LOOPBACK)

    assert (output.result["row_count"], output.result["rows"]) == (1, [])
    engine = sa.create_engine(postgres_url)
    with engine.connect() as db:
        assert db.execute(sa.text(f"SELECT balance FROM {customers} WHERE id = 3")).scalar() == 12
    engine.dispose()


async def test_the_databases_error_fails_the_step_with_its_sqlstate(
    runner: Runner, seed: Seed, postgres_url: str
) -> None:
    url = _connect(seed, postgres_url)
    config = {"connection": "shop-db", "sql": "SELECT * FROM no_such_table_here"}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("postgresql", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message.startswith("PostgreSQL refused the query: 42P01: relation")
    assert url not in raised.value.message


async def test_a_missing_parameter_and_a_statement_timeout_are_not_retried(
    runner: Runner, seed: Seed, postgres_url: str
) -> None:
    _connect(seed, postgres_url)
    missing = {"connection": "shop-db", "sql": "SELECT :a AS a, :b AS b", "params": {"a": 1}}
    slow = {"connection": "shop-db", "sql": "SELECT pg_sleep(5)", "timeout_s": 0.1}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("postgresql", missing), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("InvalidConfig", True)
    assert "'b'" in raised.value.message

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("postgresql", slow, seq=2), **ALLOW_LOOPBACK)
    assert raised.value.non_retryable
    assert "57014" in raised.value.message  # query_canceled: the statement timeout


async def test_a_serialization_failure_may_be_retried(
    runner: Runner, seed: Seed, postgres_url: str
) -> None:
    _connect(seed, postgres_url)
    config = {
        "connection": "shop-db",
        "sql": "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$",
    }

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("postgresql", config), **ALLOW_LOOPBACK)

    assert not raised.value.non_retryable
    assert raised.value.message == "PostgreSQL refused the query: 40001: conflict"


async def test_the_database_host_passes_the_address_guard(
    runner: Runner, seed: Seed, postgres_url: str
) -> None:
    _connect(seed, postgres_url)  # a Unix socket: this machine
    config = {"connection": "shop-db", "sql": "SELECT 1"}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("postgresql", config))

    assert (raised.value.type, raised.value.non_retryable) == ("AddressNotAllowed", True)


def test_sql_may_not_hold_a_template() -> None:
    with pytest.raises(ValidationError, match="pass values as `:name` in `params`"):
        PostgresqlConfig.model_validate(
            {"connection": "db", "sql": "SELECT * FROM t WHERE id = {{ contact.id }}"}
        )


async def test_an_unreachable_database_is_retried_and_an_unsendable_value_is_not(
    runner: Runner, seed: Seed, postgres_url: str
) -> None:
    closed = free_port()  # nothing listens there
    connect(
        seed,
        name="gone-db",
        integration="postgresql",
        auth="database_url",
        secret={"url": f"postgresql://shop:Secr3tPassw0rd@127.0.0.1:{closed}/shop"},
    )
    _connect(seed, postgres_url)

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(
            seed.action("postgresql", {"connection": "gone-db", "sql": "SELECT 1"}),
            **ALLOW_LOOPBACK,
        )
    assert not raised.value.non_retryable
    assert raised.value.message.startswith("cannot reach the PostgreSQL database")
    assert "Secr3tPassw0rd" not in raised.value.message

    unsendable = {"connection": "shop-db", "sql": "SELECT :v AS v", "params": {"v": [{"a": 1}]}}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("postgresql", unsendable, seq=2), **ALLOW_LOOPBACK)
    assert raised.value.non_retryable


async def test_the_databases_connection_limit_is_retried_later(
    runner: Runner, seed: Seed, postgres_url: str
) -> None:
    """A database's own rate limit: a role allowed no more connections (SQLSTATE 53300, too
    many connections) fails the step with a retryable error, its password masked."""
    role = f"capped_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as db:
        db.execute(
            sa.text(f"CREATE ROLE {role} LOGIN PASSWORD 'Capp3dPassw0rd' CONNECTION LIMIT 0")
        )
    try:
        url = sa.engine.make_url(postgres_url).set(
            drivername="postgresql", username=role, password="Capp3dPassw0rd"
        )
        connect(
            seed,
            name="capped-db",
            integration="postgresql",
            auth="database_url",
            secret={"url": url.render_as_string(hide_password=False)},
        )
        with pytest.raises(ApplicationError) as raised:
            await runner.perform(
                seed.action("postgresql", {"connection": "capped-db", "sql": "SELECT 1"}),
                **ALLOW_LOOPBACK,
            )
    finally:
        with admin.begin() as db:
            db.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()

    assert not raised.value.non_retryable
    assert "too many connections" in raised.value.message, raised.value.message
    assert "Capp3dPassw0rd" not in raised.value.message
