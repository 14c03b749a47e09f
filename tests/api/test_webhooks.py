"""Outgoing webhooks through the API: subscriptions per tenant and role, the event patterns
they accept, and the address guard at their URL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from schemas.webhooks import EVENT_TYPES, matches
from tests.api.helpers import TenantKeys

HOOK = {"url": "http://93.184.216.34/hooks/flowdeck", "events": ["flow.*"]}


async def _create(
    api: httpx.AsyncClient, tenant: TenantKeys, role: str = "admin", **body: Any
) -> dict[str, Any]:
    response = await api.post("/api/webhooks", json={**HOOK, **body}, headers=tenant.auth(role))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_admins_and_managers_manage_webhooks_viewers_read_them_without_secrets(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    created = await _create(api, tenant, description="CRM sync")
    assert created["secret"].startswith("whsec_")
    assert created["active"] is True and created["events"] == ["flow.*"]
    by_manager = await _create(api, tenant, "manager", events=["*"], active=False)
    assert by_manager["secret"] != created["secret"]

    listed = await api.get("/api/webhooks", headers=tenant.auth("viewer"))
    assert [w["id"] for w in listed.json()] == [created["id"], by_manager["id"]]
    read = await api.get(f"/api/webhooks/{created['id']}", headers=tenant.auth("viewer"))
    assert read.json()["description"] == "CRM sync"
    for body in [*listed.json(), read.json()]:
        assert "secret" not in body
    assert created["secret"] not in listed.text + read.text

    refused = await api.post("/api/webhooks", json=HOOK, headers=tenant.auth("viewer"))
    assert refused.status_code == 403
    refused = await api.post("/api/webhooks", json=HOOK, headers=tenant.auth("agent"))
    assert refused.status_code == 403

    changed = await api.patch(
        f"/api/webhooks/{created['id']}",
        json={"events": ["flow.completed", "flow.failed"], "description": None},
        headers=tenant.auth("manager"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["flow.completed", "flow.failed"]
    assert changed.json()["description"] is None and "secret" not in changed.json()

    # Another tenant sees nothing of it, and cannot touch it.
    assert (await api.get("/api/webhooks", headers=other_tenant.auth("admin"))).json() == []
    for method in ("GET", "PATCH", "DELETE"):
        response = await api.request(
            method,
            f"/api/webhooks/{created['id']}",
            json={"active": False} if method == "PATCH" else None,
            headers=other_tenant.auth("admin"),
        )
        assert response.status_code == 404, method
    deliveries = await api.get(
        f"/api/webhooks/{created['id']}/deliveries", headers=other_tenant.auth("admin")
    )
    assert deliveries.status_code == 404

    deleted = await api.delete(f"/api/webhooks/{created['id']}", headers=tenant.auth("manager"))
    assert deleted.status_code == 204
    gone = await api.get(f"/api/webhooks/{created['id']}", headers=tenant.auth("viewer"))
    assert gone.status_code == 404


async def test_a_given_secret_is_kept_and_a_malformed_one_refused(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    created = await _create(api, tenant, secret=secret)
    assert created["secret"] == secret
    for bad in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="):
        response = await api.post(
            "/api/webhooks", json={**HOOK, "secret": bad}, headers=tenant.auth("admin")
        )
        assert response.status_code == 422, bad
        assert [d["path"] for d in response.json()["error"]["details"]] == ["$.secret"]


async def test_event_patterns_are_names_prefixes_or_everything(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await _create(api, tenant, events=["*"])
    await _create(api, tenant, events=["flow.step.*", "webhook.disabled"])
    response = await api.post(
        "/api/webhooks",
        json={**HOOK, "events": ["flow.completed", "flow.finished", "order.*", "fl*w.*"]},
        headers=tenant.auth("admin"),
    )
    assert response.status_code == 422
    paths = sorted(d["path"] for d in response.json()["error"]["details"])
    assert paths == ["$.events[1]", "$.events[2]", "$.events[3]"]


@pytest.mark.parametrize(
    ("patterns", "heard"),
    [
        (["*"], set(EVENT_TYPES)),
        (["flow.*"], {t for t in EVENT_TYPES if t.startswith("flow.")}),
        (["flow.step.*"], {"flow.step.started", "flow.step.completed", "flow.step.failed"}),
        (["flow.completed", "webhook.*"], {"flow.completed", "webhook.disabled"}),
        (["flow.step.completed"], {"flow.step.completed"}),
    ],
)
def test_a_pattern_hears_the_events_it_names(patterns: list[str], heard: set[str]) -> None:
    assert {t for t in EVENT_TYPES if matches(patterns, t)} == heard


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost/hook",
    ],
)
async def test_a_private_or_loopback_url_is_refused_at_its_path(
    api: httpx.AsyncClient, tenant: TenantKeys, url: str
) -> None:
    response = await api.post(
        "/api/webhooks", json={**HOOK, "url": url}, headers=tenant.auth("admin")
    )
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["path"] == "$.url" and "FLOWDECK_HTTP_ALLOWLIST" in detail["message"]
    created = await _create(api, tenant)
    moved = await api.patch(
        f"/api/webhooks/{created['id']}", json={"url": url}, headers=tenant.auth("admin")
    )
    assert moved.status_code == 422
    assert [d["path"] for d in moved.json()["error"]["details"]] == ["$.url"]


async def test_a_url_that_is_not_http_is_refused(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/api/webhooks", json={**HOOK, "url": "ftp://example.com/x"}, headers=tenant.auth("admin")
    )
    assert response.status_code == 422
    assert [d["path"] for d in response.json()["error"]["details"]] == ["$.url"]
