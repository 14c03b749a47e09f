"""Connections: a tenant's named credentials per integration, which steps name in their
config's `connection`. Viewers see them masked; managers create, change, test and delete."""

from __future__ import annotations

import functools

from fastapi import APIRouter, Response

from api.bodies.connections import (
    AuthKindOut,
    ConnectionCreate,
    ConnectionOut,
    ConnectionTestResult,
    ConnectionUpdate,
    IntegrationOut,
    SettingOut,
)
from api.deps import ManagerKey, SessionDep, SettingsDep, VaultDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import connections as service
from schemas.connections import AUTH_FIELDS, INTEGRATION_SPECS
from store import connections as store
from store.models import Connection

router = APIRouter(prefix="/connections", tags=["connections"], responses=KEYED)


def _out(connection: Connection) -> ConnectionOut:
    return ConnectionOut(
        id=connection.id,
        name=connection.name,
        integration=connection.integration,
        auth=connection.auth,
        settings=connection.settings,
        secret=connection.secret_hint,
        created_at=connection.created_at,
        updated_at=connection.updated_at,
    )


@router.get("")
def list_connections(session: SessionDep, key: ViewerKey) -> list[ConnectionOut]:
    """The tenant's connections by name, each secret masked."""
    return [_out(c) for c in store.list_connections(session, tenant_id=key.tenant_id)]


@functools.cache
def _integrations() -> tuple[IntegrationOut, ...]:
    """Built once per process from `schemas.connections`' one table."""
    return tuple(
        IntegrationOut(
            integration=integration,
            label=spec.label,
            auth=[
                AuthKindOut(
                    kind=kind,
                    required=list(AUTH_FIELDS[kind].required),
                    optional=list(AUTH_FIELDS[kind].optional),
                )
                for kind in spec.auth
            ],
            settings=[
                SettingOut(
                    name=name,
                    type="number" if field.annotation in (float, float | None) else "string",
                    required=field.is_required(),
                    default=None if field.is_required() else field.default,
                )
                for name, field in spec.settings.model_fields.items()
            ],
        )
        for integration, spec in INTEGRATION_SPECS.items()
    )


@router.get("/integrations")
def list_integrations(key: ViewerKey) -> list[IntegrationOut]:
    """Every integration a connection may be of: the auth kinds it accepts with their secret
    fields, and its settings with their defaults."""
    return list(_integrations())


@router.post("", status_code=201, responses=CONFLICT)
def create_connection(
    body: ConnectionCreate, session: SessionDep, vault: VaultDep, key: ManagerKey
) -> ConnectionOut:
    """The secret is encrypted and never returned, not even now: the answer shows it masked."""
    connection = store.create_connection(
        session,
        tenant_id=key.tenant_id,
        name=body.name,
        integration=body.integration,
        auth=body.auth,
        settings=body.settings,
        secret=body.secret,
        vault=vault,
    )
    return _out(connection)


@router.get("/{connection_id}", responses=NOT_FOUND)
def read_connection(connection_id: str, session: SessionDep, key: ViewerKey) -> ConnectionOut:
    connection = store.get_connection(session, tenant_id=key.tenant_id, connection_id=connection_id)
    return _out(connection)


@router.patch("/{connection_id}", responses=NOT_FOUND)
def update_connection(
    connection_id: str,
    body: ConnectionUpdate,
    session: SessionDep,
    vault: VaultDep,
    key: ManagerKey,
) -> ConnectionOut:
    """New settings, or a new secret (whole): flows using it pick it up at their next step."""
    connection = store.update_connection(
        session,
        tenant_id=key.tenant_id,
        connection_id=connection_id,
        auth=body.auth,
        settings=body.settings,
        secret=body.secret,
        vault=vault,
    )
    return _out(connection)


@router.delete("/{connection_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_connection(connection_id: str, session: SessionDep, key: ManagerKey) -> Response:
    """409 while a flow's published version uses it (the answer names the flows)."""
    store.delete_connection(session, tenant_id=key.tenant_id, connection_id=connection_id)
    return Response(status_code=204)


@router.post("/{connection_id}/test", responses=NOT_FOUND)
async def test_connection(
    connection_id: str,
    session: SessionDep,
    settings: SettingsDep,
    vault: VaultDep,
    key: ManagerKey,
) -> ConnectionTestResult:
    """One cheap authenticated call to the service (PostgreSQL: `SELECT 1`; OpenAI-compatible:
    `GET {base_url}/models`; Slack: `auth.test`; Stripe: the balance), through the address
    guard of HTTP steps. A refusal is an answer (`outcome: failed`), not an error."""
    result = await service.test_connection(
        session,
        tenant_id=key.tenant_id,
        connection_id=connection_id,
        vault=vault,
        settings=settings,
    )
    return ConnectionTestResult(
        outcome=result.outcome, message=result.message, latency_ms=result.latency_ms
    )
