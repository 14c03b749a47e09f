"""Listing executions: filters, cursor pagination, the CSV export and the step timeline."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from schemas.execution import ExecutionStatus, RecordInput, StepRecord, StepStatus
from store.db import session_scope
from store.models import Execution, new_id
from store.timeline import apply_records
from tests.api.helpers import TenantKeys, make_flow

BASE = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _insert(engine: Engine, tenant_id: str, flow_id: str, **fields: Any) -> Execution:
    execution_id = new_id()
    values: dict[str, Any] = {
        "id": execution_id,
        "tenant_id": tenant_id,
        "flow_id": flow_id,
        "version": 1,
        "workflow_id": f"exec-{execution_id}",
        **fields,
    }
    with session_scope(engine) as session:
        row = Execution(**values)
        session.add(row)
    return row


async def test_pages_walk_every_execution_once_newest_first(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant)
    # Groups of three share a timestamp, so only the id tie-break keeps pages stable.
    rows = [
        _insert(engine, tenant.id, flow["id"], created_at=BASE - timedelta(minutes=i // 3))
        for i in range(23)
    ]
    expected = [r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5, "flow_id": flow["id"]}
        if cursor:
            params["cursor"] = cursor
        response = await api.get("/api/executions", params=params, headers=tenant.auth("viewer"))
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 5


async def test_filters_narrow_the_list(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant)
    other_flow = await make_flow(api, tenant, name="other")
    asha = _insert(
        engine,
        tenant.id,
        flow["id"],
        status="completed",
        contact_name="Asha Rao",
        contact_phone="+919800000001",
        created_at=BASE,
    )
    ravi = _insert(
        engine,
        tenant.id,
        flow["id"],
        status="waiting",
        contact_name="Ravi 100%",
        contact_phone="+919800000002",
        test=True,
        created_at=BASE + timedelta(days=1),
    )
    old = _insert(
        engine,
        tenant.id,
        other_flow["id"],
        status="failed",
        contact_name="Old lead",
        created_at=BASE - timedelta(days=30),
    )

    async def ids(**params: Any) -> list[str]:
        response = await api.get("/api/executions", params=params, headers=tenant.auth("viewer"))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(flow_id=flow["id"]) == [ravi.id, asha.id]
    assert await ids(status="completed,failed") == [asha.id, old.id]
    assert await ids(status=["waiting", "failed"]) == [ravi.id, old.id]
    assert await ids(q="asha") == [asha.id]
    assert await ids(q="0002") == [ravi.id]
    assert await ids(q="100%") == [ravi.id]  # % is a character, not a wildcard
    assert await ids(test="true") == [ravi.id]
    assert await ids(test="false", flow_id=flow["id"]) == [asha.id]
    assert await ids(since=(BASE - timedelta(days=1)).isoformat()) == [ravi.id, asha.id]
    assert await ids(until="2030-05-01T12:00:00") == [old.id]  # no zone: UTC
    assert await ids(since=BASE.isoformat(), until=(BASE + timedelta(hours=1)).isoformat()) == [
        asha.id
    ]
    others = await api.get("/api/executions", headers=other_tenant.auth("viewer"))
    assert others.json() == {"items": [], "next_cursor": None}


async def test_the_csv_export_has_the_listed_columns(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant)
    done = _insert(
        engine,
        tenant.id,
        flow["id"],
        status="failed",
        contact_name='Asha "AR" Rao, Jr',
        contact_phone="+919800000001",
        reason="http step failed",
        created_at=BASE,
        started_at=BASE + timedelta(seconds=1),
        ended_at=BASE + timedelta(seconds=5),
    )
    _insert(engine, tenant.id, flow["id"], status="running", test=True, created_at=BASE)

    response = await api.get(
        "/api/executions/export.csv",
        params={"status": "failed"},
        headers=tenant.auth("viewer"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "executions.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows == [
        {
            "id": done.id,
            "flow_id": flow["id"],
            "version": "1",
            "status": "failed",
            "contact_name": 'Asha "AR" Rao, Jr',
            "contact_phone": "+919800000001",
            "test": "false",
            "created_at": "2030-05-01T12:00:00+00:00",
            "started_at": "2030-05-01T12:00:01+00:00",
            "ended_at": "2030-05-01T12:00:05+00:00",
            "reason": "http step failed",
        }
    ]
    everything = await api.get("/api/executions/export.csv", headers=tenant.auth("viewer"))
    assert len(list(csv.DictReader(io.StringIO(everything.text)))) == 2


async def test_the_detail_shows_the_step_timeline_in_order(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant)
    execution = _insert(engine, tenant.id, flow["id"], contact={"name": "Asha"})
    records = [
        StepRecord(
            seq=2,
            node_id="mail",
            node_type="email",
            status=StepStatus.failed,
            started_at=BASE + timedelta(seconds=2),
            ended_at=BASE + timedelta(seconds=2, milliseconds=250),
            error="SMTP refused",
            attempt=3,
        ),
        StepRecord(
            seq=1,
            node_id="call",
            node_type="ai_call",
            status=StepStatus.success,
            started_at=BASE,
            ended_at=BASE + timedelta(seconds=1),
            port="missed",
            result={"duration_s": 0},
        ),
        StepRecord(
            seq=3,
            node_id="sms",
            node_type="sms",
            status=StepStatus.skipped,
            started_at=BASE + timedelta(seconds=3),
            ended_at=BASE + timedelta(seconds=3),
            skip_reason="contact has no phone",
        ),
    ]
    apply_records(
        engine,
        RecordInput(
            execution_id=execution.id,
            tenant_id=tenant.id,
            flow_id=flow["id"],
            records=records,
            status=ExecutionStatus.failed,
            reason="mail failed",
            at=BASE + timedelta(seconds=4),
        ),
    )
    response = await api.get(f"/api/executions/{execution.id}", headers=tenant.auth("viewer"))
    assert response.status_code == 200
    detail = response.json()
    assert detail["status"] == "failed" and detail["reason"] == "mail failed"
    assert detail["flow_name"] == "Test flow"
    steps = detail["steps"]
    assert [s["node_id"] for s in steps] == ["call", "mail", "sms"]
    assert steps[0]["port"] == "missed" and steps[0]["duration_ms"] == 1000
    assert steps[0]["result"] == {"duration_s": 0}
    assert steps[1]["error"] == "SMTP refused" and steps[1]["attempt"] == 3
    assert steps[1]["duration_ms"] == 250
    assert steps[2]["status"] == "skipped"
    assert steps[2]["skip_reason"] == "contact has no phone"
    assert detail["temporal_url"].endswith(f"/workflows/exec-{execution.id}")
