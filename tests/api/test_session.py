"""The dashboard's session: an API key pasted once becomes an HttpOnly, SameSite=Strict cookie
that authenticates the dashboard's requests (and its event stream) with the key's role."""

from __future__ import annotations

import httpx

from tests.api.helpers import TenantKeys

ORIGIN = {"Origin": "http://flowdeck.test"}


async def _signed_in(api: httpx.AsyncClient, secret: str) -> httpx.Response:
    return await api.post("/api/session", json={"key": secret}, headers=ORIGIN)


async def test_a_key_becomes_a_session_cookie_no_script_can_read(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    signed = await _signed_in(api, tenant.secrets["manager"])
    assert signed.status_code == 200, signed.text
    assert signed.json()["role"] == "manager" and signed.json()["tenant_id"] == tenant.id
    cookie = signed.headers["set-cookie"].lower()
    assert "flowdeck_session=" in cookie
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    # The cookie alone now authenticates, with the key's role.
    assert (await api.get("/api/session")).json()["key_name"] == "manager-key"
    assert (await api.get("/api/flows")).status_code == 200
    created = await api.post("/api/flows", json={"name": "From the dashboard"}, headers=ORIGIN)
    assert created.status_code == 201, created.text

    out = await api.delete("/api/session", headers=ORIGIN)
    assert out.status_code == 204
    api.cookies.clear()  # what the browser does with the expired cookie
    assert (await api.get("/api/flows")).status_code == 401


async def test_a_change_from_another_site_is_refused_even_with_the_cookie(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await _signed_in(api, tenant.secrets["admin"])
    for origin in ({"Origin": "https://evil.example"}, {}):
        refused = await api.post("/api/flows", json={"name": "Forged"}, headers=origin)
        assert refused.status_code == 403, refused.text
    listed = await api.get("/api/flows")
    assert all(flow["name"] != "Forged" for flow in listed.json())


async def test_a_viewer_session_reads_but_changes_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    assert (await _signed_in(api, tenant.secrets["viewer"])).json()["role"] == "viewer"
    assert (await api.get("/api/flows")).status_code == 200
    denied = await api.post("/api/flows", json={"name": "No"}, headers=ORIGIN)
    assert denied.status_code == 403


async def test_an_unknown_key_signs_nobody_in(api: httpx.AsyncClient) -> None:
    refused = await _signed_in(api, "fd_not-a-key")
    assert refused.status_code == 401
    assert "set-cookie" not in refused.headers


async def test_a_revoked_keys_session_ends(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    admin = tenant.auth("admin")
    issued = await api.post("/api/keys", json={"name": "temp", "role": "viewer"}, headers=admin)
    key = issued.json()
    await _signed_in(api, key["secret"])
    assert (await api.get("/api/flows")).status_code == 200
    await api.delete(f"/api/keys/{key['id']}", headers=admin)
    assert (await api.get("/api/flows")).status_code == 401
