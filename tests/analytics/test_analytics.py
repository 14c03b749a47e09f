"""Analytics over executions written straight into the database: exact counts and means."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import Execution, ExecutionStep, utcnow
from tests.api.helpers import TenantKeys, insert_execution, make_flow

DAY1 = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1, hours=11)  # 2030-05-02 23:00 UTC
WINDOW = {"since": "2030-04-30T00:00:00Z", "until": "2030-05-03T00:00:00Z"}

Step = tuple[str, str, str | None, int | None, dict[str, Any] | None]
"""(node_id, node_type, port, duration_ms, result)."""


def _execution(
    engine: Engine,
    tenant_id: str,
    flow_id: str,
    *,
    status: str,
    at: datetime,
    steps: Sequence[Step] = (),
    test: bool = False,
) -> str:
    execution_id = insert_execution(
        engine, tenant_id, flow_id, status=status, test=test, created_at=at
    )
    with session_scope(engine) as session:
        for seq, (node_id, node_type, port, duration_ms, result) in enumerate(steps, start=1):
            session.add(
                ExecutionStep(
                    execution_id=execution_id,
                    tenant_id=tenant_id,
                    seq=seq,
                    node_id=node_id,
                    node_type=node_type,
                    status="success",
                    port=port,
                    started_at=at,
                    duration_ms=duration_ms,
                    result=result,
                )
            )
    return execution_id


async def _seed(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flow A: 2 completed, 1 failed, 1 skipped, 1 test run; flow B: 1 cancelled; noise."""
    a = await make_flow(api, tenant, name="A")
    b = await make_flow(api, tenant, name="B")
    add = _execution
    add(engine, tenant.id, a["id"], status="completed", at=DAY1, steps=[
        ("call", "ai_call", "missed", 1000, {"call_sid": "c1"}),
        ("ab", "ab_split", "a", 0, {"variant": "a"}),
        ("mail", "email", "sent", 300, None),
    ])  # fmt: skip
    add(engine, tenant.id, a["id"], status="completed", at=DAY1, steps=[
        ("call", "ai_call", "answered", 3000, None),
        ("ab", "ab_split", "b", 0, {"variant": "b"}),
    ])  # fmt: skip
    add(engine, tenant.id, a["id"], status="failed", at=DAY2, steps=[
        ("call", "ai_call", "missed", 2000, None),
        ("ab", "ab_split", "a", 0, {"variant": "a"}),
        ("call", "ai_call", None, None, None),  # a second visit, still running
    ])  # fmt: skip
    add(engine, tenant.id, a["id"], status="skipped", at=DAY2)
    add(engine, tenant.id, a["id"], status="completed", at=DAY2, test=True, steps=[
        ("call", "ai_call", "answered", 500, None),
    ])  # fmt: skip
    add(engine, tenant.id, b["id"], status="cancelled", at=DAY1)
    # Outside the window, and another tenant's: never counted.
    add(engine, tenant.id, a["id"], status="failed", at=DAY1 - timedelta(days=60))
    foreign = await make_flow(api, other_tenant, name="A")
    add(engine, other_tenant.id, foreign["id"], status="completed", at=DAY1)
    return a, b


async def test_the_overview_counts_runs_per_day_status_and_flow(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    a, b = await _seed(api, tenant, other_tenant, engine)
    response = await api.get(
        "/api/analytics/overview", params=WINDOW, headers=tenant.auth("viewer")
    )
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["include_test"] is False
    assert overview["runs"] == 5
    assert overview["by_status"] == {"cancelled": 1, "completed": 2, "failed": 1, "skipped": 1}
    assert overview["rates"] == {"completed": 0.4, "failed": 0.2, "skipped": 0.2, "cancelled": 0.2}
    assert [(d["day"], d["runs"], d["by_status"]) for d in overview["per_day"]] == [
        ("2030-05-01", 3, {"cancelled": 1, "completed": 2}),
        ("2030-05-02", 2, {"failed": 1, "skipped": 1}),
    ]
    assert [(f["flow_id"], f["name"], f["runs"]) for f in overview["flows"]] == [
        (a["id"], "A", 4),
        (b["id"], "B", 1),
    ]
    assert overview["flows"][0]["rates"]["completed"] == 0.5

    with_tests = await api.get(
        "/api/analytics/overview",
        params={**WINDOW, "include_test": "true"},
        headers=tenant.auth("viewer"),
    )
    assert with_tests.json()["runs"] == 6
    assert with_tests.json()["per_day"][1]["by_status"]["completed"] == 1


async def test_a_flow_report_has_funnel_edges_ab_results_call_outcomes_and_step_times(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    a, _ = await _seed(api, tenant, other_tenant, engine)
    url = f"/api/analytics/flows/{a['id']}"
    response = await api.get(url, params=WINDOW, headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["name"] == "A"
    assert report["runs"] == 4
    assert report["rates"] == {"completed": 0.5, "failed": 0.25, "skipped": 0.25, "cancelled": 0.0}
    assert [(d["day"], d["runs"]) for d in report["per_day"]] == [
        ("2030-05-01", 2),
        ("2030-05-02", 2),
    ]
    assert report["funnel"] == [
        {"node_id": "ab", "executions": 3},
        {"node_id": "call", "executions": 3},
        {"node_id": "mail", "executions": 1},
    ]
    assert report["edges"] == [  # the unfinished second visit of `call` took no port
        {"node_id": "ab", "port": "a", "executions": 2},
        {"node_id": "ab", "port": "b", "executions": 1},
        {"node_id": "call", "port": "answered", "executions": 1},
        {"node_id": "call", "port": "missed", "executions": 2},
        {"node_id": "mail", "port": "sent", "executions": 1},
    ]
    assert report["ab_results"] == [
        {
            "node_id": "ab",
            "variants": [
                {"variant": "a", "executions": 2, "completed": 1, "completion_rate": 0.5},
                {"variant": "b", "executions": 1, "completed": 1, "completion_rate": 1.0},
            ],
        }
    ]
    assert report["call_outcomes"] == [{"node_id": "call", "ports": {"answered": 1, "missed": 2}}]
    assert report["step_times"] == [
        {"node_id": "ab", "steps": 3, "mean_ms": 0.0},
        {"node_id": "call", "steps": 3, "mean_ms": 2000.0},
        {"node_id": "mail", "steps": 1, "mean_ms": 300.0},
    ]

    with_tests = (
        await api.get(url, params={**WINDOW, "include_test": "true"}, headers=tenant.auth("viewer"))
    ).json()
    assert with_tests["call_outcomes"] == [
        {"node_id": "call", "ports": {"answered": 2, "missed": 2}}
    ]
    assert with_tests["step_times"][1] == {"node_id": "call", "steps": 4, "mean_ms": 1625.0}

    foreign = await api.get(url, params=WINDOW, headers=other_tenant.auth("viewer"))
    assert foreign.status_code == 404


async def test_the_default_window_is_the_last_30_days(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant)
    _execution(engine, tenant.id, flow["id"], status="completed", at=utcnow() - timedelta(days=2))
    _execution(engine, tenant.id, flow["id"], status="completed", at=utcnow() - timedelta(days=40))
    overview = (await api.get("/api/analytics/overview", headers=tenant.auth("viewer"))).json()
    assert overview["runs"] == 1
    report = (
        await api.get(f"/api/analytics/flows/{flow['id']}", headers=tenant.auth("viewer"))
    ).json()
    assert report["runs"] == 1 and report["funnel"] == []


async def test_a_window_that_ends_before_it_starts_is_refused(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.get(
        "/api/analytics/overview",
        params={"since": "2030-05-02T00:00:00", "until": "2030-05-01T00:00:00"},
        headers=tenant.auth("viewer"),
    )
    assert response.status_code == 422
    assert [d["path"] for d in response.json()["error"]["details"]] == ["$.query.since"]


def _pin(engine: Engine, execution_id: str, version: int) -> None:
    with session_scope(engine) as session:
        execution = session.get(Execution, execution_id)
        assert execution is not None
        execution.version = version


async def test_a_flow_report_counts_one_version_when_asked_and_runs_per_version(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    a, _ = await _seed(api, tenant, other_tenant, engine)  # four runs of version 1
    for status, steps in (
        ("completed", [("call", "ai_call", "answered", 100, None)]),
        ("failed", []),
    ):
        _pin(engine, _execution(engine, tenant.id, a["id"], status=status, at=DAY1, steps=steps), 2)
    url = f"/api/analytics/flows/{a['id']}"
    every = (await api.get(url, params=WINDOW, headers=tenant.auth("viewer"))).json()
    assert every["version"] is None and every["runs"] == 6
    assert every["versions"] == [{"version": 2, "runs": 2}, {"version": 1, "runs": 4}]

    second = (
        await api.get(url, params={**WINDOW, "version": 2}, headers=tenant.auth("viewer"))
    ).json()
    assert second["version"] == 2
    assert second["runs"] == 2
    assert second["by_status"] == {"completed": 1, "failed": 1}
    assert second["funnel"] == [{"node_id": "call", "executions": 1}]
    assert second["edges"] == [{"node_id": "call", "port": "answered", "executions": 1}]
    assert second["versions"] == every["versions"]  # the picker still lists every version

    first = (
        await api.get(url, params={**WINDOW, "version": 1}, headers=tenant.auth("viewer"))
    ).json()
    assert first["runs"] == 4
    assert [n["executions"] for n in first["funnel"]] == [3, 3, 1]

    refused = await api.get(url, params={**WINDOW, "version": 0}, headers=tenant.auth("viewer"))
    assert refused.status_code == 422
