"""Every route needs a live key of the right role; tenants and keys are managed through the API."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.main import create_app
from schemas.settings import Settings
from store.db import session_scope
from store.keys import ensure_operator_key, issue_key
from store.models import ApiKey, utcnow
from tests.api.helpers import TenantKeys

ROLES = ("viewer", "agent", "manager", "admin")
ALLOWED = {
    "viewer": {"viewer", "agent", "manager", "admin"},
    "agent": {"agent", "manager", "admin"},
    "manager": {"manager", "admin"},
    "admin": {"admin"},
    "operator": set(),
}
# (method, path, least role). Ids are made up: an allowed key gets 404/422, never 401/403.
MATRIX: list[tuple[str, str, str]] = [
    ("GET", "/api/schemas/flow", "viewer"),
    ("GET", "/api/steps", "viewer"),
    ("GET", "/api/session", "viewer"),
    ("POST", "/api/flows/validate", "viewer"),
    ("GET", "/api/flows", "viewer"),
    ("POST", "/api/flows", "manager"),
    ("PUT", "/api/flows/priorities", "manager"),
    ("GET", "/api/flows/{flow_id}", "viewer"),
    ("PATCH", "/api/flows/{flow_id}", "manager"),
    ("DELETE", "/api/flows/{flow_id}", "manager"),
    ("GET", "/api/flows/{flow_id}/schedule", "viewer"),
    ("GET", "/api/flows/{flow_id}/versions", "viewer"),
    ("POST", "/api/flows/{flow_id}/versions", "manager"),
    ("GET", "/api/flows/{flow_id}/versions/{number}", "viewer"),
    ("PUT", "/api/flows/{flow_id}/versions/{number}", "manager"),
    ("POST", "/api/flows/{flow_id}/versions/{number}/publish", "manager"),
    ("POST", "/api/flows/{flow_id}/rollback", "manager"),
    ("GET", "/api/flows/{flow_id}/versions/{a}/diff/{b}", "viewer"),
    ("POST", "/api/flows/{flow_id}/executions", "manager"),
    ("GET", "/api/executions", "viewer"),
    ("GET", "/api/executions/export.csv", "viewer"),
    ("POST", "/api/executions/cancel", "manager"),
    ("GET", "/api/executions/{execution_id}", "viewer"),
    ("POST", "/api/executions/{execution_id}/cancel", "manager"),
    ("POST", "/api/executions/{execution_id}/retry", "manager"),
    ("POST", "/api/executions/{execution_id}/events/{name}", "manager"),
    ("PUT", "/api/executions/{execution_id}/steps/{step}/complete", "agent"),
    ("POST", "/api/executions/{execution_id}/simulate", "manager"),
    ("GET", "/api/outbox", "viewer"),
    ("GET", "/api/templates", "viewer"),
    ("POST", "/api/templates", "manager"),
    ("GET", "/api/templates/{template_id}", "viewer"),
    ("PATCH", "/api/templates/{template_id}", "manager"),
    ("DELETE", "/api/templates/{template_id}", "manager"),
    ("POST", "/api/templates/{template_id}/preview", "viewer"),
    ("POST", "/api/flows/{flow_id}/test", "manager"),
    ("GET", "/api/analytics/overview", "viewer"),
    ("GET", "/api/analytics/flows/{flow_id}", "viewer"),
    ("POST", "/api/contacts", "manager"),
    ("POST", "/api/contacts/bulk", "manager"),
    ("GET", "/api/contacts", "viewer"),
    ("GET", "/api/contacts/{contact_id}", "viewer"),
    ("PATCH", "/api/contacts/{contact_id}", "manager"),
    ("DELETE", "/api/contacts/{contact_id}", "manager"),
    ("GET", "/api/events", "viewer"),
    ("POST", "/api/events/{name}", "manager"),
    ("POST", "/api/flows/{flow_id}/event-hook", "manager"),
    ("DELETE", "/api/flows/{flow_id}/event-hook", "manager"),
    ("GET", "/api/phone-numbers", "viewer"),
    ("POST", "/api/phone-numbers", "manager"),
    ("GET", "/api/phone-numbers/{phone_number_id}", "viewer"),
    ("PATCH", "/api/phone-numbers/{phone_number_id}", "manager"),
    ("DELETE", "/api/phone-numbers/{phone_number_id}", "manager"),
    ("DELETE", "/api/phone-numbers/{phone_number_id}/deployments/{environment}", "manager"),
    ("GET", "/api/departments", "viewer"),
    ("POST", "/api/departments", "manager"),
    ("GET", "/api/departments/{department_id}", "viewer"),
    ("PATCH", "/api/departments/{department_id}", "manager"),
    ("DELETE", "/api/departments/{department_id}", "manager"),
    ("GET", "/api/agents", "viewer"),
    ("POST", "/api/agents", "manager"),
    ("GET", "/api/agents/{agent_id}", "viewer"),
    ("GET", "/api/agents/{agent_id}/flows/active", "viewer"),
    ("PATCH", "/api/agents/{agent_id}", "manager"),
    ("DELETE", "/api/agents/{agent_id}", "manager"),
    ("PUT", "/api/agents/{agent_id}/status", "agent"),
    ("POST", "/api/departments/route", "manager"),
    ("GET", "/api/departments/{department_id}/queue", "viewer"),
    ("POST", "/api/flows/{flow_id}/deploy", "manager"),
    ("GET", "/api/flows/{flow_id}/deployments", "viewer"),
    ("GET", "/api/campaigns", "viewer"),
    ("POST", "/api/campaigns", "manager"),
    ("GET", "/api/campaigns/{campaign_id}", "viewer"),
    ("PATCH", "/api/campaigns/{campaign_id}", "manager"),
    ("DELETE", "/api/campaigns/{campaign_id}", "manager"),
    ("GET", "/api/campaigns/{campaign_id}/flows", "viewer"),
    ("POST", "/api/campaigns/{campaign_id}/flows", "manager"),
    ("PATCH", "/api/campaigns/{campaign_id}/flows/{assignment_id}", "manager"),
    ("DELETE", "/api/campaigns/{campaign_id}/flows/{assignment_id}", "manager"),
    ("POST", "/api/campaigns/{campaign_id}/flows/trigger", "manager"),
    ("GET", "/api/recordings", "viewer"),
    ("GET", "/api/recordings/{recording_id}", "viewer"),
    ("GET", "/api/recordings/{recording_id}/audio", "viewer"),
    ("GET", "/api/webhooks", "viewer"),
    ("POST", "/api/webhooks", "manager"),
    ("GET", "/api/webhooks/{webhook_id}", "viewer"),
    ("PATCH", "/api/webhooks/{webhook_id}", "manager"),
    ("DELETE", "/api/webhooks/{webhook_id}", "manager"),
    ("GET", "/api/webhooks/{webhook_id}/deliveries", "viewer"),
    ("POST", "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", "manager"),
    ("GET", "/api/connections", "viewer"),
    ("GET", "/api/connections/integrations", "viewer"),
    ("POST", "/api/connections", "manager"),
    ("GET", "/api/connections/{connection_id}", "viewer"),
    ("PATCH", "/api/connections/{connection_id}", "manager"),
    ("DELETE", "/api/connections/{connection_id}", "manager"),
    ("POST", "/api/connections/{connection_id}/test", "manager"),
    ("GET", "/api/keys", "admin"),
    ("POST", "/api/keys", "admin"),
    ("DELETE", "/api/keys/{key_id}", "admin"),
    ("GET", "/api/tenants", "operator"),
    ("GET", "/api/tenant", "viewer"),
    ("PATCH", "/api/tenant", "admin"),
    ("POST", "/api/tenants", "operator"),
]
UNAUTHENTICATED = {
    ("GET", "/api/health"),
    ("GET", "/api/health/live"),
    ("GET", "/api/health/ready"),
    # Signing in takes the key in its body, signing out only clears the cookie
    # (tests/api/test_session.py).
    ("POST", "/api/session"),
    ("DELETE", "/api/session"),
}
# No API key: Twilio signs these (X-Twilio-Signature), tested in tests/channels/test_webhooks
# and tests/calls.
SIGNED = {
    ("POST", "/webhooks/twilio/status"),
    ("POST", "/webhooks/twilio/messaging"),
    ("POST", "/webhooks/twilio/voice"),  # tests/calls
    ("POST", "/webhooks/twilio/voice/turn"),
    ("POST", "/webhooks/twilio/voice/wait"),
    ("POST", "/webhooks/twilio/voice/routed"),  # tests/calls/test_routed_calls
    ("POST", "/webhooks/events/{hook_id}"),  # tests/engagement/test_event_triggers
}
STREAMS = {("GET", "/api/events/stream")}  # endless for allowed keys: tested in test_events


def _concrete(path: str) -> str:
    return path.format(
        flow_id="nope",
        number=1,
        a=1,
        b=2,
        execution_id="nope",
        name="ping",
        step="s",
        key_id="k",
        template_id="nope",
        contact_id="nope",
        phone_number_id="nope",
        department_id="nope",
        agent_id="nope",
        campaign_id="nope",
        assignment_id="nope",
        recording_id="nope",
        webhook_id="nope",
        delivery_id="nope",
        connection_id="nope",
        environment="staging",
    )


async def _call(
    api: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
    return await api.request(method, _concrete(path), json=body, headers=headers)


def test_the_matrix_covers_every_route() -> None:
    app = create_app(settings=Settings(FLOWDECK_ENV="test", DATABASE_URL="sqlite://"))
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == {(m, p) for m, p, _ in MATRIX} | UNAUTHENTICATED | STREAMS | SIGNED


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in MATRIX] + sorted(STREAMS))
async def test_no_key_or_a_bad_key_is_401(api: httpx.AsyncClient, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer fd_not-a-key"}, {"Authorization": "Basic eDp5"}):
        response = await _call(api, method, path, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_each_role_reaches_only_its_routes(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for method, path, least in MATRIX:
        for role in ROLES:
            response = await _call(api, method, path, headers=tenant.auth(role))
            if role in ALLOWED[least]:
                assert response.status_code not in (401, 403), (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.text)
                assert response.json()["error"]["code"] == "forbidden"


async def test_health_needs_no_key(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "temporal": "ok"}


async def test_health_is_503_when_temporal_is_unreachable(engine: Engine) -> None:
    settings = Settings(FLOWDECK_ENV="test", TEMPORAL_ADDRESS="127.0.0.1:1")
    app = create_app(settings=settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/health")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "temporal": "error"}


@pytest.fixture
def operator(engine: Engine) -> dict[str, str]:
    secret = "fd_operator_" + secrets.token_urlsafe(16)
    with session_scope(engine) as session:
        ensure_operator_key(session, secret)
    return {"Authorization": f"Bearer {secret}"}


async def test_the_operator_creates_tenants_whose_admin_key_works(
    api: httpx.AsyncClient, operator: dict[str, str], tenant: TenantKeys
) -> None:
    created = await api.post("/api/tenants", json={"name": "Acme"}, headers=operator)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Acme"
    admin = {"Authorization": f"Bearer {body['admin_key']}"}

    flows = await api.get("/api/flows", headers=admin)
    assert flows.status_code == 200 and flows.json() == []
    listed = await api.get("/api/tenants", headers=operator)
    assert body["id"] in [t["id"] for t in listed.json()]
    assert "admin_key" not in listed.json()[0]

    # A tenant's own admin is not the operator.
    assert (await api.get("/api/tenants", headers=tenant.auth("admin"))).status_code == 403
    assert (await api.post("/api/tenants", json={"name": "x"}, headers=admin)).status_code == 403


async def test_admins_issue_list_and_revoke_keys(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    admin = tenant.auth("admin")
    issued = await api.post(
        "/api/keys", json={"name": "dashboard", "role": "viewer"}, headers=admin
    )
    assert issued.status_code == 201, issued.text
    key = issued.json()
    assert key["role"] == "viewer" and key["secret"].startswith("fd_")
    viewer = {"Authorization": f"Bearer {key['secret']}"}
    assert (await api.get("/api/flows", headers=viewer)).status_code == 200
    assert (await api.post("/api/flows", json={"name": "x"}, headers=viewer)).status_code == 403

    listed = (await api.get("/api/keys", headers=admin)).json()
    assert "dashboard" in [k["name"] for k in listed]
    assert all("secret" not in k and "secret_hash" not in k for k in listed)
    # Another tenant's admin neither sees nor revokes it.
    others = (await api.get("/api/keys", headers=other_tenant.auth("admin"))).json()
    assert key["id"] not in [k["id"] for k in others]
    foreign = await api.delete(f"/api/keys/{key['id']}", headers=other_tenant.auth("admin"))
    assert foreign.status_code == 404

    revoked = await api.delete(f"/api/keys/{key['id']}", headers=admin)
    assert revoked.status_code == 204
    assert (await api.get("/api/flows", headers=viewer)).status_code == 401
    assert key["id"] not in [k["id"] for k in (await api.get("/api/keys", headers=admin)).json()]
    again = await api.delete(f"/api/keys/{key['id']}", headers=admin)
    assert again.status_code == 404


async def test_unknown_roles_are_refused_with_a_path(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/api/keys", json={"name": "x", "role": "superuser"}, headers=tenant.auth("admin")
    )
    assert response.status_code == 422
    assert [d["path"] for d in response.json()["error"]["details"]] == ["$.role"]


def _app_client(engine: Engine, **env: Any) -> httpx.AsyncClient:
    settings = Settings.model_validate({"FLOWDECK_ENV": "test", **env})
    app = create_app(settings=settings, engine=engine, temporal_client=None)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def _viewer_key(engine: Engine, tenant: TenantKeys) -> tuple[str, dict[str, str]]:
    with session_scope(engine) as session:
        key, secret = issue_key(session, tenant_id=tenant.id, name="cached", role="viewer")
    return key.id, {"Authorization": f"Bearer {secret}"}


def _revoke_in_database(engine: Engine, key_id: str) -> None:
    """As another API process (or an operator with SQL) would."""
    with session_scope(engine) as session:
        key = session.get(ApiKey, key_id)
        assert key is not None
        key.revoked_at = utcnow()
        session.add(key)


async def test_a_live_key_is_read_from_the_database_once_per_cache_period(
    engine: Engine, tenant: TenantKeys
) -> None:
    _, viewer = _viewer_key(engine, tenant)
    reads: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "FROM api_key" in statement:
            reads.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        async with _app_client(engine, FLOWDECK_KEY_CACHE_S=60) as api:
            answers = [(await api.get("/api/flows", headers=viewer)).status_code for _ in range(4)]
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert answers == [200] * 4
    assert len(reads) == 1


@pytest.mark.parametrize(("cache_s", "after_s"), [(0.5, 0.6), (0, 0)])
async def test_a_key_revoked_elsewhere_is_refused_once_the_cache_period_is_over(
    engine: Engine, tenant: TenantKeys, cache_s: float, after_s: float
) -> None:
    """With a cache, a key revoked through another process works until its period ends;
    without one (0), it is refused at once."""
    key_id, viewer = _viewer_key(engine, tenant)
    async with _app_client(engine, FLOWDECK_KEY_CACHE_S=cache_s) as api:
        assert (await api.get("/api/flows", headers=viewer)).status_code == 200
        _revoke_in_database(engine, key_id)
        await asyncio.sleep(after_s)
        refused = await api.get("/api/flows", headers=viewer)
    assert refused.status_code == 401
