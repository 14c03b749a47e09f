"""Connections: a tenant's named credentials, their secrets encrypted by the vault.

The API manages them through the session functions (`create_connection`, `list_connections`,
…); connectors and tests use the engine functions `resolve`, `create` and `update_secret`,
which open their own session. Nothing here logs, returns or raises a secret's plaintext:
only `resolve` and `update_secret` hand it back, inside a `ResolvedConnection`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schemas.connections import (
    AUTH_KINDS,
    INTEGRATIONS,
    AuthKind,
    Integration,
    Problem,
    ResolvedConnection,
    auth_problems,
    full_settings,
    secret_hint,
    secret_problems,
    settings_problems,
)
from store.db import session_scope
from store.errors import ConflictError, ConnectionNotFound, InvalidInputError, NotFoundError
from store.flows import PUBLISHED
from store.models import Connection, Flow, FlowVersion, utcnow
from store.vault import UndecryptableSecret, Vault


def _invalid(problems: list[Problem]) -> InvalidInputError:
    return InvalidInputError(
        f"the connection is invalid: {problems[0].message}",
        details=[{"path": p.path, "code": p.code, "message": p.message} for p in problems],
    )


def check_connection(
    *, integration: str, auth: str, settings: Mapping[str, Any], secret: Mapping[str, Any]
) -> tuple[Integration, AuthKind]:
    """The integration and auth kind, once the four agree; else InvalidInputError with a
    detail per problem at its path (`$.secret.token`). No message quotes a secret."""
    if integration not in INTEGRATIONS:
        raise _invalid(
            [Problem("$.integration", "invalid_value", f"no integration {integration!r}")]
        )
    if auth not in AUTH_KINDS:
        raise _invalid([Problem("$.auth", "invalid_value", f"no auth kind {auth!r}")])
    problems = auth_problems(integration, auth)
    if not problems:
        problems = secret_problems(integration, auth, secret)
    problems += settings_problems(integration, settings)
    if problems:
        raise _invalid(problems)
    return integration, auth


# --- the API's session functions ---------------------------------------------------------------


def create_connection(
    session: Session,
    *,
    tenant_id: str,
    name: str,
    integration: str,
    auth: str,
    settings: Mapping[str, Any],
    secret: Mapping[str, str],
    vault: Vault,
) -> Connection:
    """A new connection; 422 at the path of each problem, 409 when the name is taken."""
    known, kind = check_connection(
        integration=integration, auth=auth, settings=settings, secret=secret
    )
    if _named(session, tenant_id, name) is not None:
        raise ConflictError(f"a connection named {name!r} exists already in this tenant")
    connection = Connection(
        tenant_id=tenant_id,
        name=name,
        integration=known,
        auth=kind,
        settings=full_settings(known, settings),
        secret_ciphertext=vault.encrypt(dict(secret)),
        secret_hint=secret_hint(secret),
    )
    session.add(connection)
    session.commit()
    session.refresh(connection)
    return connection


def list_connections(session: Session, *, tenant_id: str) -> list[Connection]:
    query = (
        select(Connection).where(Connection.tenant_id == tenant_id).order_by(col(Connection.name))
    )
    return list(session.exec(query).all())


def get_connection(session: Session, *, tenant_id: str, connection_id: str) -> Connection:
    connection = session.get(Connection, connection_id) if "\x00" not in connection_id else None
    if connection is None or connection.tenant_id != tenant_id:
        raise NotFoundError(f"connection {connection_id} not found")
    return connection


def update_connection(
    session: Session,
    *,
    tenant_id: str,
    connection_id: str,
    auth: str | None = None,
    settings: Mapping[str, Any] | None = None,
    secret: Mapping[str, str] | None = None,
    vault: Vault,
) -> Connection:
    """New settings (replacing the old, defaults filled in again), a new secret (replacing
    the old, whole), or a new auth kind with its secret."""
    connection = get_connection(session, tenant_id=tenant_id, connection_id=connection_id)
    if auth is not None and auth != connection.auth and secret is None:
        problem = Problem("$.secret", "missing", "a new auth kind needs its secret")
        raise _invalid([problem])
    known = cast(Integration, connection.integration)
    kind = cast(AuthKind, connection.auth)
    new_settings = dict(settings) if settings is not None else connection.settings
    if secret is not None:
        known, kind = check_connection(
            integration=known, auth=auth or kind, settings=new_settings, secret=secret
        )
    elif problems := settings_problems(known, new_settings):
        raise _invalid(problems)
    connection.auth = kind
    connection.settings = full_settings(known, new_settings)
    if secret is not None:
        connection.secret_ciphertext = vault.encrypt(dict(secret))
        connection.secret_hint = secret_hint(secret)
    connection.updated_at = utcnow()
    session.add(connection)
    session.commit()
    session.refresh(connection)
    return connection


def delete_connection(session: Session, *, tenant_id: str, connection_id: str) -> None:
    """Remove it; 409 naming the flows whose published version uses it."""
    connection = get_connection(session, tenant_id=tenant_id, connection_id=connection_id)
    users = flows_using(session, tenant_id=tenant_id, name=connection.name)
    if users:
        named = ", ".join(f"{flow.name!r} ({flow.id})" for flow in users)
        raise ConflictError(
            f"connection {connection.name!r} is used by the published version of {named}: "
            "publish versions that no longer use it first"
        )
    session.delete(connection)
    session.commit()


def flows_using(session: Session, *, tenant_id: str, name: str) -> list[Flow]:
    """The tenant's live flows whose published version has a step naming connection `name`."""
    rows = session.exec(
        select(Flow, FlowVersion.definition)
        .join(FlowVersion, col(FlowVersion.flow_id) == col(Flow.id))
        .where(
            Flow.tenant_id == tenant_id,
            col(Flow.deleted_at).is_(None),
            FlowVersion.status == PUBLISHED,
        )
        .order_by(col(Flow.name))
    ).all()
    return [flow for flow, definition in rows if name in connections_named(definition)]


def connections_named(definition: Any) -> set[str]:
    """The connection names a stored flow document's steps give (read as raw JSON, so a
    step type this code does not know still counts)."""
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    names = set()
    for node in nodes if isinstance(nodes, list) else []:
        config = node.get("config") if isinstance(node, dict) else None
        value = config.get("connection") if isinstance(config, dict) else None
        if isinstance(value, str):
            names.add(value)
    return names


def existing(session: Session, *, tenant_id: str, names: set[str]) -> dict[str, str]:
    """Of `names`, those the tenant has, with each one's integration."""
    names = {n for n in names if "\x00" not in n}
    if not names:
        return {}
    rows = session.exec(
        select(Connection.name, Connection.integration).where(
            Connection.tenant_id == tenant_id, col(Connection.name).in_(names)
        )
    ).all()
    return dict(rows)


def _named(session: Session, tenant_id: str, name: str) -> Connection | None:
    return session.exec(
        select(Connection).where(Connection.tenant_id == tenant_id, Connection.name == name)
    ).first()


def _resolved(connection: Connection, secret: dict[str, str]) -> ResolvedConnection:
    return ResolvedConnection(
        id=connection.id,
        tenant_id=connection.tenant_id,
        name=connection.name,
        integration=cast(Integration, connection.integration),
        auth=cast(AuthKind, connection.auth),
        settings=dict(connection.settings),
        secret=secret,
    )


def decrypted(connection: Connection, vault: Vault) -> ResolvedConnection:
    """The row with its secret decrypted."""
    return _resolved(connection, vault.decrypt(connection.secret_ciphertext))


# --- connectors' and tests' engine functions -----------------------------------------------------


def resolve(
    engine: Engine, *, tenant_id: str, name: str, integration: str, vault: Vault
) -> ResolvedConnection:
    """The tenant's connection `name` of `integration`, decrypted; ConnectionNotFound when
    the tenant has none (or its `name` is of another integration)."""
    with Session(engine) as session:
        connection = _named(session, tenant_id, name)
    if connection is None:
        raise ConnectionNotFound(f"no {integration} connection named {name!r} in this tenant")
    if connection.integration != integration:
        raise ConnectionNotFound(
            f"connection {name!r} is a {connection.integration} connection, not {integration}"
        )
    return decrypted(connection, vault)


def create(
    engine: Engine,
    *,
    tenant_id: str,
    name: str,
    integration: str,
    auth: str,
    settings: Mapping[str, Any],
    secret: Mapping[str, str],
    vault: Vault,
) -> ResolvedConnection:
    """`create_connection` in a session of its own; the new connection, decrypted."""
    with session_scope(engine) as session:
        connection = create_connection(
            session,
            tenant_id=tenant_id,
            name=name,
            integration=integration,
            auth=auth,
            settings=settings,
            secret=secret,
            vault=vault,
        )
    return _resolved(connection, dict(secret))


def update_secret(
    engine: Engine, *, tenant_id: str, connection_id: str, changes: Mapping[str, str], vault: Vault
) -> ResolvedConnection:
    """Store new values of some secret fields (an OAuth refresh: `access_token`,
    `expires_at`, maybe a new `refresh_token`); the other fields stay. The result, decrypted."""
    with session_scope(engine) as session:
        connection = get_connection(session, tenant_id=tenant_id, connection_id=connection_id)
        secret = vault.decrypt(connection.secret_ciphertext) | dict(changes)
        update_connection(
            session, tenant_id=tenant_id, connection_id=connection_id, secret=secret, vault=vault
        )
    return _resolved(connection, secret)


@dataclass(frozen=True)
class Rotation:
    """What `rotate_all` did."""

    rotated: int
    undecryptable: list[str]
    """Ids of connections no configured key decrypts: left as they were. While there are
    any, the key that encrypted them must not be removed (it may be missing from the list)."""


def rotate_all(engine: Engine, *, vault: Vault) -> Rotation:
    """Re-encrypt every connection's secret with the vault's first key, in one transaction.
    Once no connection is undecryptable, the other keys may be removed."""
    undecryptable = []
    with session_scope(engine) as session:
        rows = session.exec(select(Connection).order_by(col(Connection.id))).all()
        for connection in rows:
            try:
                connection.secret_ciphertext = vault.rotate(connection.secret_ciphertext)
            except UndecryptableSecret:
                undecryptable.append(connection.id)
                continue
            session.add(connection)
    return Rotation(rotated=len(rows) - len(undecryptable), undecryptable=undecryptable)
