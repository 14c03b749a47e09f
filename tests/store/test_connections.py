"""Connections in the store: encrypted at rest, resolved by name and integration, rotated."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from schemas.settings import Settings
from store import connections
from store.db import session_scope
from store.errors import ConnectionNotFound, InvalidInputError
from store.keys import create_tenant
from store.vault import UndecryptableSecret, Vault, VaultNotConfigured, new_key

TOKEN = "xoxb-1234567890-abcdefghijklmnop"


def _tenant(engine: Engine) -> str:
    with session_scope(engine) as session:
        return create_tenant(session, name=f"tenant-{uuid.uuid4().hex[:8]}").id


def _slack(engine: Engine, tenant_id: str, vault: Vault, name: str = "team") -> str:
    return connections.create(
        engine,
        tenant_id=tenant_id,
        name=name,
        integration="slack",
        auth="bearer",
        settings={},
        secret={"token": TOKEN},
        vault=vault,
    ).id


def _ciphertext(engine: Engine, connection_id: str) -> str:
    with engine.connect() as db:
        row = db.execute(
            sa.text("SELECT secret_ciphertext FROM connection WHERE id = :id"),
            {"id": connection_id},
        ).one()
    return str(row[0])


def test_the_secret_is_ciphertext_at_rest_and_resolves_by_name(engine: Engine) -> None:
    vault = Vault([new_key()])
    tenant_id = _tenant(engine)
    connection_id = _slack(engine, tenant_id, vault)

    assert TOKEN not in _ciphertext(engine, connection_id)
    resolved = connections.resolve(
        engine, tenant_id=tenant_id, name="team", integration="slack", vault=vault
    )
    assert resolved.secret == {"token": TOKEN}
    assert resolved.settings == {"base_url": "https://slack.com/api"}
    assert TOKEN not in repr(resolved)


def test_resolve_refuses_another_tenant_another_integration_and_an_unknown_name(
    engine: Engine,
) -> None:
    vault = Vault([new_key()])
    tenant_id, other_id = _tenant(engine), _tenant(engine)
    _slack(engine, tenant_id, vault)
    for tenant, name, integration in [
        (other_id, "team", "slack"),
        (tenant_id, "team", "stripe"),
        (tenant_id, "nobody", "slack"),
    ]:
        with pytest.raises(ConnectionNotFound) as refused:
            connections.resolve(
                engine, tenant_id=tenant, name=name, integration=integration, vault=vault
            )
        assert TOKEN not in str(refused.value)


def test_a_secret_missing_a_field_is_refused_at_its_path(engine: Engine) -> None:
    with pytest.raises(InvalidInputError) as refused:
        connections.create(
            engine,
            tenant_id=_tenant(engine),
            name="pay",
            integration="stripe",
            auth="api_key",
            settings={},
            secret={"key": "sk_test_abc"},
            vault=Vault([new_key()]),
        )
    paths = {d["path"]: d["code"] for d in refused.value.details}
    assert paths == {"$.secret.api_key": "missing", "$.secret.key": "unknown_key"}
    assert "sk_test_abc" not in str(refused.value.details)


def test_an_oauth_refresh_keeps_the_fields_it_does_not_change(engine: Engine) -> None:
    vault = Vault([new_key()])
    tenant_id = _tenant(engine)
    created = connections.create(
        engine,
        tenant_id=tenant_id,
        name="crm",
        integration="hubspot",
        auth="oauth2",
        settings={},
        secret={
            "access_token": "old-access-token",
            "refresh_token": "the-refresh-token",
            "client_id": "client",
            "token_url": "https://auth.example.com/token",
        },
        vault=vault,
    )
    connections.update_secret(
        engine,
        tenant_id=tenant_id,
        connection_id=created.id,
        changes={"access_token": "new-access-token", "expires_at": "2030-01-01T00:00:00+00:00"},
        vault=vault,
    )
    resolved = connections.resolve(
        engine, tenant_id=tenant_id, name="crm", integration="hubspot", vault=vault
    )
    assert resolved.secret["access_token"] == "new-access-token"
    assert resolved.secret["refresh_token"] == "the-refresh-token"


def test_rotation_lets_the_old_key_go(engine: Engine) -> None:
    """Encrypted with key A; with "B,A" configured, rotate; with "B" alone it still decrypts."""
    key_a, key_b = new_key(), new_key()
    tenant_id = _tenant(engine)
    connection_id = _slack(engine, tenant_id, Vault([key_a]))

    rotation = connections.rotate_all(engine, vault=Vault([key_b, key_a]))
    assert connection_id not in rotation.undecryptable

    only_b = Vault.from_settings(Settings(FLOWDECK_ENV="test", FLOWDECK_SECRET_KEYS=key_b))
    resolved = connections.resolve(
        engine, tenant_id=tenant_id, name="team", integration="slack", vault=only_b
    )
    assert resolved.secret == {"token": TOKEN}
    with pytest.raises(UndecryptableSecret):
        Vault([key_a]).decrypt(_ciphertext(engine, connection_id))


def test_a_vault_needs_a_valid_key_and_never_quotes_it() -> None:
    with pytest.raises(VaultNotConfigured, match="FLOWDECK_SECRET_KEYS"):
        Vault.from_settings(Settings(FLOWDECK_ENV="test", FLOWDECK_SECRET_KEYS=None))
    with pytest.raises(VaultNotConfigured) as refused:
        Vault(["not-a-fernet-key-but-a-secret"])
    assert "not-a-fernet-key-but-a-secret" not in str(refused.value)
