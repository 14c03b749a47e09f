"""Departments through the API: a number or a queue, hours, overflow within the tenant."""

from __future__ import annotations

import httpx

from tests.api.helpers import TenantKeys
from tests.telephony.helpers import create, paths

HOURS = {"start": "09:00", "end": "18:00", "timezone": "Asia/Kolkata", "days": ["mon", "tue"]}


async def test_a_manager_creates_edits_lists_and_removes_departments(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    support = await create(api, tenant, "/api/departments", name="Support", queue="support")
    sales = await create(
        api,
        tenant,
        "/api/departments",
        name="Sales",
        phone_number="+15550109999",
        business_hours=HOURS,
        overflow_department_id=support["id"],
    )
    assert sales["business_hours"] == HOURS
    assert sales["overflow_department_id"] == support["id"]
    assert sales["queue"] is None and sales["phone_number"] == "+15550109999"

    viewer = tenant.auth("viewer")
    listed = await api.get("/api/departments", headers=viewer)
    assert [d["name"] for d in listed.json()] == ["Sales", "Support"]
    changed = await api.patch(
        f"/api/departments/{sales['id']}",
        json={"queue": "sales", "business_hours": None},
        headers=tenant.auth("manager"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["queue"] == "sales" and changed.json()["business_hours"] is None
    read = await api.get(f"/api/departments/{sales['id']}", headers=viewer)
    assert read.json() == changed.json()

    # Removing the overflow target leaves Sales without an overflow.
    removed = await api.delete(f"/api/departments/{support['id']}", headers=tenant.auth())
    assert removed.status_code == 204
    read = await api.get(f"/api/departments/{sales['id']}", headers=viewer)
    assert read.json()["overflow_department_id"] is None
    assert (await api.get(f"/api/departments/{support['id']}", headers=viewer)).status_code == 404


async def test_invalid_departments_are_422_at_their_paths(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    manager = tenant.auth("manager")
    nowhere = await api.post("/api/departments", json={"name": "Nowhere"}, headers=manager)
    assert paths(nowhere) == ["$"]
    bad = await api.post(
        "/api/departments",
        json={
            "name": "",
            "phone_number": "12",
            "business_hours": {"start": "18:00", "end": "09:00", "timezone": "Mars/Base"},
        },
        headers=manager,
    )
    assert paths(bad) == ["$.business_hours.timezone", "$.name", "$.phone_number"]
    reversed_hours = await api.post(
        "/api/departments",
        json={"name": "Late", "queue": "q", "business_hours": {"start": "18:00", "end": "09:00"}},
        headers=manager,
    )
    assert paths(reversed_hours) == ["$.business_hours"]

    foreign = await create(api, other_tenant, "/api/departments", name="Theirs", queue="q")
    borrowed = await api.post(
        "/api/departments",
        json={"name": "Mine", "queue": "q", "overflow_department_id": foreign["id"]},
        headers=manager,
    )
    assert paths(borrowed) == ["$.overflow_department_id"]
    mine = await create(api, tenant, "/api/departments", name="Mine", queue="q")
    itself = await api.patch(
        f"/api/departments/{mine['id']}",
        json={"overflow_department_id": mine["id"]},
        headers=manager,
    )
    assert paths(itself) == ["$.overflow_department_id"]
    emptied = await api.patch(
        f"/api/departments/{mine['id']}", json={"queue": None}, headers=manager
    )
    assert paths(emptied) == ["$"]
    read = await api.get(f"/api/departments/{mine['id']}", headers=manager)
    assert read.json()["queue"] == "q" and read.json()["overflow_department_id"] is None


async def test_names_are_unique_in_a_tenant_only(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    first = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    twice = await api.post(
        "/api/departments", json={"name": "Sales", "queue": "s2"}, headers=tenant.auth()
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "conflict"
    other = await create(api, tenant, "/api/departments", name="Support", queue="support")
    renamed = await api.patch(
        f"/api/departments/{other['id']}", json={"name": "Sales"}, headers=tenant.auth()
    )
    assert renamed.status_code == 409
    # Another tenant may have its own Sales, and cannot see or touch ours.
    await create(api, other_tenant, "/api/departments", name="Sales", queue="sales")
    for method in ("GET", "PATCH", "DELETE"):
        response = await api.request(
            method,
            f"/api/departments/{first['id']}",
            json={"queue": "x"} if method == "PATCH" else None,
            headers=other_tenant.auth(),
        )
        assert response.status_code == 404, (method, response.text)
    viewer = tenant.auth("viewer")
    write = await api.post("/api/departments", json={"name": "X", "queue": "x"}, headers=viewer)
    assert write.status_code == 403
