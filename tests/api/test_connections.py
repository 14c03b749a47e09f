"""Connections through the API: secrets encrypted at rest and never shown again, roles and
tenants, the 422s and 409s that keep flows and connections consistent, and the test call."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from schemas.settings import Settings
from store.vault import Vault
from tests.api.conftest import TEMPORAL_UI
from tests.api.helpers import TenantKeys, make_flow

SLACK_TOKEN = "xoxb-2718281828-3141592653-ZmxvdWRlY2tzZWNyZXQ"
OPENAI_KEY = "sk-test-0123456789abcdefghijklmnopqrstuv"
SLACK = {"name": "team", "integration": "slack", "auth": "bearer", "secret": {"token": SLACK_TOKEN}}


@pytest.fixture
def settings(task_queue: str, temporal_env: WorkflowEnvironment) -> Settings:
    """The API's settings, loopback allowed: the test servers live there."""
    return Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL=TEMPORAL_UI,
        FLOWDECK_TASK_QUEUE=task_queue,
        FLOWDECK_HTTP_ALLOWLIST="127.0.0.1,::1",
    )


async def _create(
    api: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any], role: str = "manager"
) -> dict[str, Any]:
    response = await api.post("/api/connections", json=body, headers=tenant.auth(role))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _stored(engine: Engine, connection_id: str) -> tuple[str, str]:
    with engine.connect() as db:
        row = db.execute(
            sa.text("SELECT secret_ciphertext, secret_hint FROM connection WHERE id = :id"),
            {"id": connection_id},
        ).one()
    return str(row[0]), str(row[1])


def _slack_flow(connection: str = "team") -> dict[str, Any]:
    return {
        "start": "post",
        "nodes": [
            {
                "id": "post",
                "type": "slack",
                "config": {"connection": connection, "channel": "#sales", "text": "New lead"},
                "transitions": {"sent": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


def _http_flow(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "start": "call",
        "nodes": [
            {
                "id": "call",
                "type": "http",
                "config": {"url": "https://crm.example.com/leads", "headers": headers},
                "transitions": {"success": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


async def test_the_secret_is_encrypted_at_rest_and_only_ever_shown_masked(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    settings: Settings,
    product_logs: io.StringIO,
) -> None:
    created = await _create(api, tenant, SLACK)
    assert created["secret"] == {"token": "••••" + SLACK_TOKEN[-4:]}
    assert created["settings"] == {"base_url": "https://slack.com/api"}

    listed = await api.get("/api/connections", headers=tenant.auth("viewer"))
    read = await api.get(f"/api/connections/{created['id']}", headers=tenant.auth("viewer"))
    changed = await api.patch(
        f"/api/connections/{created['id']}",
        json={"settings": {"base_url": "https://slack.example.com/api"}},
        headers=tenant.auth("manager"),
    )
    assert [c["name"] for c in listed.json()] == ["team"]
    assert read.json()["secret"] == created["secret"]
    assert changed.json()["settings"] == {"base_url": "https://slack.example.com/api"}
    for answer in (listed, read, changed):
        assert answer.status_code == 200, answer.text
        assert SLACK_TOKEN not in answer.text

    ciphertext, hint = _stored(engine, created["id"])
    assert SLACK_TOKEN not in ciphertext and SLACK_TOKEN not in hint
    assert Vault.from_settings(settings).decrypt(ciphertext) == {"token": SLACK_TOKEN}
    assert SLACK_TOKEN not in product_logs.getvalue()


async def test_a_new_secret_replaces_the_old_one_and_is_masked_too(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine, settings: Settings
) -> None:
    created = await _create(api, tenant, SLACK)
    new_token = "xoxb-1111111111-2222222222-bmV3c2VjcmV0dG9rZW4"
    changed = await api.patch(
        f"/api/connections/{created['id']}",
        json={"secret": {"token": new_token}},
        headers=tenant.auth("admin"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["secret"] == {"token": "••••" + new_token[-4:]}
    assert new_token not in changed.text
    ciphertext, _ = _stored(engine, created["id"])
    assert Vault.from_settings(settings).decrypt(ciphertext) == {"token": new_token}


async def test_viewers_read_masked_connections_and_change_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    created = await _create(api, tenant, SLACK, role="admin")
    path = f"/api/connections/{created['id']}"
    for role in ("viewer", "agent"):
        refused = [
            await api.post(
                "/api/connections", json={**SLACK, "name": "x"}, headers=tenant.auth(role)
            ),
            await api.patch(
                path, json={"secret": {"token": "xoxb-0-0"}}, headers=tenant.auth(role)
            ),
            await api.delete(path, headers=tenant.auth(role)),
            await api.post(f"{path}/test", headers=tenant.auth(role)),
        ]
        assert [r.status_code for r in refused] == [403, 403, 403, 403]
        assert (await api.get(path, headers=tenant.auth(role))).status_code == 200
    assert (await api.get(path, headers=tenant.auth("viewer"))).json()["secret"] == created[
        "secret"
    ]


async def test_another_tenant_sees_none_of_it(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    created = await _create(api, tenant, SLACK)
    path = f"/api/connections/{created['id']}"
    others = other_tenant.auth("admin")
    assert (await api.get("/api/connections", headers=others)).json() == []
    answers = [
        await api.get(path, headers=others),
        await api.patch(path, json={"settings": {}}, headers=others),
        await api.delete(path, headers=others),
        await api.post(f"{path}/test", headers=others),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    # The same name is free in another tenant.
    await _create(api, other_tenant, SLACK)
    assert (await api.get(path, headers=tenant.auth("viewer"))).status_code == 200


async def test_a_name_is_unique_in_its_tenant(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    await _create(api, tenant, SLACK)
    again = await api.post("/api/connections", json=SLACK, headers=tenant.auth("manager"))
    assert again.status_code == 409
    assert "team" in again.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"secret": {}}, {"$.secret.token": "missing"}),
        ({"secret": {"token": SLACK_TOKEN, "pass": "p4ssw0rd!"}}, {"$.secret.pass": "unknown_key"}),
        ({"auth": "api_key", "secret": {"api_key": SLACK_TOKEN}}, {"$.auth": "auth_not_accepted"}),
        ({"integration": "myspace"}, {"$.integration": "invalid_value"}),
        ({"settings": {"base_url": "ftp://slack"}}, {"$.settings.base_url": "invalid_value"}),
        ({"settings": {"colour": "red"}}, {"$.settings.colour": "unknown_key"}),
        (
            {"settings": {"base_url": "https://bot:p4ssw0rd!@slack.example.com"}},
            {"$.settings.base_url": "invalid_value"},
        ),
        ({"secret": {"token": 12345678}}, {"$.secret.token": "invalid_value"}),
        ({"name": "no spaces please"}, {"$.name": "invalid_value"}),
    ],
)
async def test_bad_input_is_a_422_at_its_path_that_quotes_no_secret(
    api: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any], paths: dict[str, str]
) -> None:
    response = await api.post("/api/connections", json={**SLACK, **body}, headers=tenant.auth())
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert {d["path"]: d["code"] for d in details} == paths
    assert SLACK_TOKEN not in response.text and "p4ssw0rd!" not in response.text


async def test_a_stripe_connection_takes_an_api_key_of_its_own_fields(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"name": "pay", "integration": "stripe", "auth": "api_key", "secret": {"token": "x"}}
    response = await api.post("/api/connections", json=body, headers=tenant.auth())
    details = {d["path"]: d["code"] for d in response.json()["error"]["details"]}
    assert details == {"$.secret.api_key": "missing", "$.secret.token": "unknown_key"}


# --- flows that use connections -----------------------------------------------------------------


async def test_publishing_a_step_naming_a_missing_connection_is_a_422_at_the_node(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant, _slack_flow("nowhere"), publish=False)
    refused = await api.post(
        f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager")
    )
    assert refused.status_code == 422, refused.text
    [detail] = refused.json()["error"]["details"]
    assert detail["path"] == "$.definition.nodes[0].config.connection"
    assert detail["code"] == "unknown_connection" and "nowhere" in detail["message"]

    # A connection of that name for another integration does not do either.
    stripe = {"name": "nowhere", "integration": "stripe", "auth": "api_key"}
    await _create(api, tenant, {**stripe, "secret": {"api_key": "sk_test_" + "a" * 24}})
    refused = await api.post(
        f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager")
    )
    assert refused.json()["error"]["details"][0]["code"] == "wrong_integration"


async def test_a_connection_a_published_flow_uses_cannot_be_deleted(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    connection = await _create(api, tenant, SLACK)
    flow = await make_flow(api, tenant, _slack_flow("team"), name="Lead alert")
    path = f"/api/connections/{connection['id']}"

    refused = await api.delete(path, headers=tenant.auth("manager"))
    assert refused.status_code == 409, refused.text
    assert "Lead alert" in refused.json()["error"]["message"]
    assert flow["id"] in refused.json()["error"]["message"]

    # A new published version that no longer uses it frees it.
    versions = f"/api/flows/{flow['id']}/versions"
    body = {"definition": _http_flow({}), "change_notes": "no Slack"}
    assert (await api.post(versions, json=body, headers=tenant.auth("manager"))).status_code == 201
    published = await api.post(f"{versions}/2/publish", headers=tenant.auth("manager"))
    assert published.status_code == 200, published.text
    assert (await api.delete(path, headers=tenant.auth("manager"))).status_code == 204
    assert (await api.get(path, headers=tenant.auth("viewer"))).status_code == 404


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({"Authorization": "Bearer abcdefghijklmnop1234"}, "Authorization"),
        ({"Authorization": "Basic dXNlcjpodW50ZXIy"}, "Authorization"),
        ({"X-Api-Key": "sk_live_51HqLyjWDarjtT1zdp7dcABC"}, "X-Api-Key"),
        ({"X-Slack": SLACK_TOKEN}, "X-Slack"),
        ({"X-Signature": "q9Zr7Tb2Lm4Xw8Vc1Nd6Hf3Jk5Pa0Ys"}, "X-Signature"),
    ],
)
async def test_publishing_a_raw_secret_is_a_422_telling_to_use_a_connection(
    api: httpx.AsyncClient, tenant: TenantKeys, headers: dict[str, str], key: str
) -> None:
    flow = await make_flow(api, tenant, _http_flow(headers), publish=False)
    refused = await api.post(
        f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager")
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "raw_secret"
    [detail] = error["details"]
    assert detail["path"] == f"$.definition.nodes[0].config.headers[{key!r}]".replace(
        "['Authorization']", ".Authorization"
    )
    assert "connection" in detail["message"]
    assert headers[key] not in refused.text


async def test_templated_and_ordinary_headers_publish(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    headers = {
        "Authorization": "Bearer {{ vars.crm_token }}",
        "Content-Type": "application/json",
        "X-Request-Id": "550e8400-e29b-41d4-a716-446655440000",
        "User-Agent": "flowdeck-crm-sync/1.0",
    }
    flow = await make_flow(api, tenant, _http_flow(headers), publish=False)
    published = await api.post(
        f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager")
    )
    assert published.status_code == 200, published.text


async def test_validating_a_draft_warns_of_a_raw_secret(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"definition": _http_flow({"Authorization": "Bearer abcdefghijklmnop1234"})}
    response = await api.post("/api/flows/validate", json=body, headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    [warning] = [w for w in response.json()["warnings"] if w["code"] == "raw_secret"]
    assert warning["path"] == "$.definition.nodes[0].config.headers.Authorization"


# --- the test call ------------------------------------------------------------------------------


def _openai(base_url: str, key: str = OPENAI_KEY) -> dict[str, Any]:
    return {
        "name": "llm",
        "integration": "openai",
        "auth": "api_key",
        "settings": {"base_url": base_url, "model": "small"},
        "secret": {"api_key": key},
    }


def _models_server(httpserver: HTTPServer) -> str:
    httpserver.expect_request(
        "/v1/models", method="GET", headers={"Authorization": f"Bearer {OPENAI_KEY}"}
    ).respond_with_json({"object": "list", "data": [{"id": "small"}, {"id": "large"}]})
    httpserver.expect_request("/v1/models", method="GET").respond_with_json(
        {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
        status=401,
    )
    return httpserver.url_for("/v1")


async def test_testing_an_openai_connection_lists_the_models_with_its_key(
    api: httpx.AsyncClient, tenant: TenantKeys, httpserver: HTTPServer, product_logs: io.StringIO
) -> None:
    base_url = _models_server(httpserver)
    good = await _create(api, tenant, _openai(base_url))
    wrong_key = "sk-test-ffffffffffffffffffffffffffffffff"
    bad = await _create(api, tenant, {**_openai(base_url, wrong_key), "name": "llm-bad"})

    passed = await api.post(f"/api/connections/{good['id']}/test", headers=tenant.auth("manager"))
    failed = await api.post(f"/api/connections/{bad['id']}/test", headers=tenant.auth("manager"))

    assert passed.status_code == 200, passed.text
    assert passed.json()["outcome"] == "ok" and "2 model" in passed.json()["message"]
    assert failed.json()["outcome"] == "failed" and "401" in failed.json()["message"]
    for text in (passed.text, failed.text, product_logs.getvalue()):
        assert OPENAI_KEY not in text and wrong_key not in text


async def test_the_test_call_goes_through_the_address_guard(
    engine: Engine,
    tenant: TenantKeys,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    httpserver: HTTPServer,
) -> None:
    from api.main import create_app

    guarded = Settings(FLOWDECK_ENV="test", FLOWDECK_TASK_QUEUE=task_queue)
    app = create_app(settings=guarded, engine=engine, temporal_client=temporal_env.client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdeck.test") as api:
        created = await _create(api, tenant, _openai(_models_server(httpserver)))
        result = await api.post(
            f"/api/connections/{created['id']}/test", headers=tenant.auth("manager")
        )
    assert result.json()["outcome"] == "failed"
    assert "FLOWDECK_HTTP_ALLOWLIST" in result.json()["message"]
    assert len(httpserver.log) == 0


async def test_testing_a_postgresql_connection_runs_select_1(
    api: httpx.AsyncClient, tenant: TenantKeys, postgres_url: str
) -> None:
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    body = {"name": "warehouse", "integration": "postgresql", "auth": "database_url"}
    good = await _create(api, tenant, {**body, "secret": {"url": url}})
    missing_db = url.replace("/flowdeck_", "/no_such_db_", 1)
    bad = await _create(api, tenant, {**body, "name": "gone", "secret": {"url": missing_db}})

    passed = await api.post(f"/api/connections/{good['id']}/test", headers=tenant.auth("manager"))
    failed = await api.post(f"/api/connections/{bad['id']}/test", headers=tenant.auth("manager"))

    assert passed.json()["outcome"] == "ok", passed.text
    assert "SELECT 1" in passed.json()["message"]
    assert failed.json()["outcome"] == "failed", failed.text
    assert "no_such_db_" in failed.json()["message"] or "does not exist" in failed.json()["message"]


async def test_an_integration_without_a_test_says_so(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {
        "name": "channel",
        "integration": "teams",
        "auth": "webhook_url",
        "secret": {"url": "https://acme.webhook.office.com/webhookb2/abc/IncomingWebhook/def"},
    }
    created = await _create(api, tenant, body)
    result = await api.post(f"/api/connections/{created['id']}/test", headers=tenant.auth())
    assert result.status_code == 200
    assert result.json()["outcome"] == "not_available"
    assert "Teams" in result.json()["message"]


async def test_an_http_step_names_an_http_connection(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = _http_flow({"Content-Type": "application/json"})
    flow["nodes"][0]["config"]["connection"] = "crm"
    made = await make_flow(api, tenant, flow, publish=False)
    publish = f"/api/flows/{made['id']}/versions/1/publish"

    await _create(api, tenant, {**SLACK, "name": "crm"})
    refused = await api.post(publish, headers=tenant.auth("manager"))
    assert refused.json()["error"]["details"][0]["code"] == "wrong_integration"

    crm = {"integration": "http", "auth": "bearer", "secret": {"token": "crm-token-1234567890"}}
    await _create(api, tenant, {**crm, "name": "crm-api"})
    flow["nodes"][0]["config"]["connection"] = "crm-api"
    again = await make_flow(api, tenant, flow, publish=False)
    published = await api.post(
        f"/api/flows/{again['id']}/versions/1/publish", headers=tenant.auth("manager")
    )
    assert published.status_code == 200, published.text


BASIC_PAIR = "Basic " + base64.b64encode(b"ops@acme.test:atlassian-token-1234").decode()
PROBES = [
    ("stripe", "api_key", {}, {"api_key": "sk_test_" + "s" * 24}, "/v1/balance",
     {"Authorization": "Bearer sk_test_" + "s" * 24}),
    ("shopify", "api_key", {}, {"api_key": "shpat_" + "0" * 32},
     "/admin/api/2024-10/shop.json", {"X-Shopify-Access-Token": "shpat_" + "0" * 32}),
    ("hubspot", "bearer", {}, {"token": "pat-na1-hubspot-token"}, "/account-info/v3/details",
     {"Authorization": "Bearer pat-na1-hubspot-token"}),
    ("salesforce", "oauth2", {"api_version": "v61.0"}, {"access_token": "00D-sf-token"},
     "/services/data/v61.0/limits", {"Authorization": "Bearer 00D-sf-token"}),
    ("jira", "basic", {}, {"username": "ops@acme.test", "password": "atlassian-token-1234"},
     "/rest/api/3/myself", {"Authorization": BASIC_PAIR}),
    ("sendgrid", "api_key", {}, {"api_key": "SG.sendgrid-key"}, "/v3/scopes",
     {"Authorization": "Bearer SG.sendgrid-key"}),
]  # fmt: skip


@pytest.mark.parametrize(("integration", "auth", "given", "secret", "path", "headers"), PROBES)
async def test_a_vendor_connection_is_tested_with_a_documented_authenticated_get(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    httpserver: HTTPServer,
    integration: str,
    auth: str,
    given: dict[str, str],
    secret: dict[str, str],
    path: str,
    headers: dict[str, str],
) -> None:
    httpserver.expect_request(path, method="GET", headers=headers).respond_with_json({"ok": 1})
    httpserver.expect_request(path).respond_with_json({"error": "unauthorized"}, status=401)
    url_setting = "instance_url" if integration == "salesforce" else "base_url"
    base = httpserver.url_for("").rstrip("/")
    body = {"integration": integration, "auth": auth, "settings": {**given, url_setting: base}}
    good = await _create(api, tenant, {**body, "name": "good", "secret": secret})
    wrong = {name: value[:-2] + "xx" for name, value in secret.items()}
    bad = await _create(api, tenant, {**body, "name": "bad", "secret": wrong})

    passed = await api.post(f"/api/connections/{good['id']}/test", headers=tenant.auth())
    failed = await api.post(f"/api/connections/{bad['id']}/test", headers=tenant.auth())

    assert passed.json()["outcome"] == "ok", passed.text
    assert failed.json()["outcome"] == "failed" and "401" in failed.json()["message"]
    for value in [*secret.values(), *wrong.values()]:
        assert value not in passed.text + failed.text


async def test_zendesk_answering_an_anonymous_user_is_a_failed_test(
    api: httpx.AsyncClient, tenant: TenantKeys, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/api/v2/users/me.json").respond_with_json(
        {"user": {"id": None, "name": "Anonymous user"}}
    )
    body = {
        "name": "desk",
        "integration": "zendesk",
        "auth": "bearer",
        "settings": {"base_url": httpserver.url_for("").rstrip("/")},
        "secret": {"token": "zendesk-oauth-token"},
    }
    created = await _create(api, tenant, body)
    result = await api.post(f"/api/connections/{created['id']}/test", headers=tenant.auth())
    assert result.json()["outcome"] == "failed"


@pytest.mark.parametrize(("uid", "outcome"), [(2, "ok"), (False, "failed")])
async def test_odoo_is_tested_by_logging_in(
    api: httpx.AsyncClient, tenant: TenantKeys, httpserver: HTTPServer, uid: Any, outcome: str
) -> None:
    login = {"service": "common", "method": "login", "args": ["crm", "admin", "odoo-pass-1"]}
    httpserver.expect_request(
        "/jsonrpc",
        method="POST",
        json={"jsonrpc": "2.0", "method": "call", "params": login, "id": 1},
    ).respond_with_json({"jsonrpc": "2.0", "id": 1, "result": uid})
    body = {
        "name": "erp",
        "integration": "odoo",
        "auth": "basic",
        "settings": {"base_url": httpserver.url_for("").rstrip("/"), "database": "crm"},
        "secret": {"username": "admin", "password": "odoo-pass-1"},
    }
    created = await _create(api, tenant, body)
    result = await api.post(f"/api/connections/{created['id']}/test", headers=tenant.auth())
    assert result.json()["outcome"] == outcome, result.text
    assert "odoo-pass-1" not in result.text
