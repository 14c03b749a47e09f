"""Phone numbers through the API: E.164, one tenant per number, roles, isolation."""

from __future__ import annotations

import httpx

from tests.api.helpers import TenantKeys
from tests.telephony.helpers import fresh_number, paths, register


async def test_a_manager_registers_edits_lists_and_removes_a_number(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    number = fresh_number()
    created = await register(api, tenant, number, label="Sales line")
    assert created["number"] == number and created["label"] == "Sales line"
    assert created["deployments"] == {"production": None, "staging": None}

    viewer = tenant.auth("viewer")
    listed = await api.get("/api/phone-numbers", headers=viewer)
    assert [n["number"] for n in listed.json()] == [number]
    renamed = await api.patch(
        f"/api/phone-numbers/{created['id']}", json={"label": "Support"}, headers=tenant.auth()
    )
    assert renamed.status_code == 200 and renamed.json()["label"] == "Support"
    read = await api.get(f"/api/phone-numbers/{created['id']}", headers=viewer)
    assert read.json()["label"] == "Support" and read.json()["number"] == number

    removed = await api.delete(f"/api/phone-numbers/{created['id']}", headers=tenant.auth())
    assert removed.status_code == 204
    gone = await api.get(f"/api/phone-numbers/{created['id']}", headers=viewer)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


async def test_bad_numbers_are_422_at_their_path(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    manager = tenant.auth("manager")
    for bad in ("5550100", "+0123456789", "+1 555 0100", "+1234567890123456"):
        response = await api.post("/api/phone-numbers", json={"number": bad}, headers=manager)
        assert paths(response) == ["$.number"], bad
    extra = await api.post(
        "/api/phone-numbers", json={"number": fresh_number(), "colour": "red"}, headers=manager
    )
    assert paths(extra) == ["$.colour"]
    created = await register(api, tenant)
    cleared = await api.patch(
        f"/api/phone-numbers/{created['id']}", json={"number": None}, headers=manager
    )
    assert paths(cleared) == ["$.number"]


async def test_a_number_belongs_to_one_tenant(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    number = fresh_number()
    mine = await register(api, tenant, number)
    again = await api.post(
        "/api/phone-numbers", json={"number": number}, headers=tenant.auth("manager")
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    theirs = await api.post(
        "/api/phone-numbers", json={"number": number}, headers=other_tenant.auth("manager")
    )
    assert theirs.status_code == 409
    # Renumbering onto a taken number clashes too.
    other = await register(api, other_tenant)
    moved = await api.patch(
        f"/api/phone-numbers/{other['id']}", json={"number": number}, headers=other_tenant.auth()
    )
    assert moved.status_code == 409

    # The other tenant neither sees nor touches it.
    listed = await api.get("/api/phone-numbers", headers=other_tenant.auth("viewer"))
    assert mine["id"] not in [n["id"] for n in listed.json()]
    for method in ("GET", "PATCH", "DELETE"):
        response = await api.request(
            method,
            f"/api/phone-numbers/{mine['id']}",
            json={"label": "x"} if method == "PATCH" else None,
            headers=other_tenant.auth(),
        )
        assert response.status_code == 404, (method, response.text)
    still = await api.get(f"/api/phone-numbers/{mine['id']}", headers=tenant.auth("viewer"))
    assert still.status_code == 200 and still.json()["label"] is None


async def test_viewers_read_but_do_not_write(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    created = await register(api, tenant)
    viewer = tenant.auth("viewer")
    assert (await api.get(f"/api/phone-numbers/{created['id']}", headers=viewer)).status_code == 200
    attempts = [
        await api.post("/api/phone-numbers", json={"number": fresh_number()}, headers=viewer),
        await api.patch(f"/api/phone-numbers/{created['id']}", json={}, headers=viewer),
        await api.delete(f"/api/phone-numbers/{created['id']}", headers=viewer),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403]
    assert attempts[0].json()["error"]["code"] == "forbidden"
