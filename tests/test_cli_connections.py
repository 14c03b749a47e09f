"""`flowdeck connections`: the keys that encrypt connections' secrets, and their rotation;
the development run's own key; api and worker refusing keys they cannot use."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cli import SECRET_KEYS_FILE, with_secret_keys
from schemas.settings import Settings
from store import connections
from store.db import create_db_engine, session_scope
from store.keys import create_tenant
from store.migrate import upgrade
from store.vault import UndecryptableSecret, Vault, new_key
from tests.processes import environment, flowdeck_command

TOKEN = "xoxb-5555555555-6666666666-cm90YXRlZHNlY3JldA"


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's backend: rotation re-encrypts every connection in it,
    and the shared one holds other tests' connections under keys of their own."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'rotation.db'}"
        return
    name = f"rotation_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(sa.text(f"CREATE DATABASE {name}"))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as db:
        db.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def _flowdeck(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*flowdeck_command(), *args],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _ciphertext(url: str, connection_id: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as db:
        value = db.execute(
            sa.text("SELECT secret_ciphertext FROM connection WHERE id = :id"),
            {"id": connection_id},
        ).scalar_one()
    engine.dispose()
    return str(value)


def test_rotate_key_lets_the_old_key_be_removed(fresh_database_url: str, tmp_path: Path) -> None:
    """Encrypted with key A; with "B,A" configured, rotate; with "B" alone it still decrypts."""
    key_a, key_b = new_key(), new_key()
    upgrade(fresh_database_url)
    engine = create_db_engine(fresh_database_url)
    with session_scope(engine) as session:
        tenant_id = create_tenant(session, name="rotation").id
    created = connections.create(
        engine,
        tenant_id=tenant_id,
        name="team",
        integration="slack",
        auth="bearer",
        settings={},
        secret={"token": TOKEN},
        vault=Vault([key_a]),
    )
    engine.dispose()

    rotated = _flowdeck(
        "connections",
        "rotate-key",
        cwd=tmp_path,
        DATABASE_URL=fresh_database_url,
        FLOWDECK_SECRET_KEYS=f"{key_b},{key_a}",
    )

    assert rotated.returncode == 0, rotated.stderr
    assert "rotated=1" in rotated.stderr or '"rotated": 1' in rotated.stderr
    assert key_a not in rotated.stderr + rotated.stdout
    assert key_b not in rotated.stderr + rotated.stdout
    ciphertext = _ciphertext(fresh_database_url, created.id)
    only_b = Vault.from_settings(Settings(FLOWDECK_ENV="test", FLOWDECK_SECRET_KEYS=key_b))
    assert only_b.decrypt(ciphertext) == {"token": TOKEN}
    with pytest.raises(UndecryptableSecret):
        Vault([key_a]).decrypt(ciphertext)


def test_rotate_key_fails_while_a_secret_has_no_key(
    fresh_database_url: str, tmp_path: Path
) -> None:
    upgrade(fresh_database_url)
    engine = create_db_engine(fresh_database_url)
    with session_scope(engine) as session:
        tenant_id = create_tenant(session, name="rotation").id
    created = connections.create(
        engine,
        tenant_id=tenant_id,
        name="pay",
        integration="stripe",
        auth="api_key",
        settings={},
        secret={"api_key": "sk_test_" + "r" * 24},
        vault=Vault([new_key()]),
    )
    engine.dispose()

    rotated = _flowdeck(
        "connections",
        "rotate-key",
        cwd=tmp_path,
        DATABASE_URL=fresh_database_url,
        FLOWDECK_SECRET_KEYS=new_key(),
    )

    assert rotated.returncode == 1
    assert created.id in rotated.stderr


def test_the_worker_refuses_a_key_that_is_not_a_fernet_key(tmp_path: Path) -> None:
    result = _flowdeck(
        "worker",
        cwd=tmp_path,
        TEMPORAL_ADDRESS="127.0.0.1:1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'flowdeck.db'}",
        FLOWDECK_SECRET_KEYS=f"{new_key()},not-a-key-but-secret",
    )
    assert result.returncode == 1
    assert "key 2 of FLOWDECK_SECRET_KEYS is not a Fernet key" in result.stderr
    assert "not-a-key-but-secret" not in result.stderr


def test_production_settings_require_the_keys() -> None:
    with pytest.raises(ValueError, match="FLOWDECK_SECRET_KEYS"):
        Settings(
            FLOWDECK_ENV="production",
            FLOWDECK_ADMIN_KEY="fd_operator",
            DATABASE_URL="postgresql+psycopg://flowdeck@db/flowdeck",
            FLOWDECK_SECRET_KEYS=None,
        )


def test_the_development_run_keeps_a_key_of_its_own(tmp_path: Path) -> None:
    key_file = tmp_path / SECRET_KEYS_FILE
    unset = Settings(FLOWDECK_ENV="development", FLOWDECK_SECRET_KEYS=None)

    first = with_secret_keys(unset, key_file=key_file)
    again = with_secret_keys(unset, key_file=key_file)

    assert first.secret_keys is not None and again.secret_keys is not None
    assert first.secret_keys.get_secret_value() == again.secret_keys.get_secret_value()
    assert key_file.stat().st_mode & 0o777 == 0o600
    Vault.from_settings(first)  # a usable key
    chosen = new_key()
    given = Settings(FLOWDECK_ENV="development", FLOWDECK_SECRET_KEYS=chosen)
    kept = with_secret_keys(given, key_file=key_file).secret_keys
    assert kept is not None and kept.get_secret_value() == chosen


def test_the_worker_refuses_to_start_without_the_keys_once_connections_exist(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'flowdeck.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        tenant_id = create_tenant(session, name="keyless").id
    connections.create(
        engine,
        tenant_id=tenant_id,
        name="team",
        integration="slack",
        auth="bearer",
        settings={},
        secret={"token": TOKEN},
        vault=Vault([new_key()]),
    )
    engine.dispose()

    # Empty counts as unset, as a compose file's `${FLOWDECK_SECRET_KEYS:-}` would give it.
    worker = {"TEMPORAL_ADDRESS": "127.0.0.1:1", "DATABASE_URL": url, "FLOWDECK_SECRET_KEYS": ""}
    after = _flowdeck("worker", cwd=tmp_path, **worker)

    assert after.returncode == 1
    assert "FLOWDECK_SECRET_KEYS is not set, and connections exist" in after.stderr
