"""AI tokens and cost in analytics: the AI steps' recorded usage, summed per node and per flow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import ExecutionStep
from tests.analytics.test_analytics import DAY1, WINDOW
from tests.api.helpers import TenantKeys, insert_execution, make_flow


def _ai_result(prompt: int, completion: int, cost: float | None) -> dict[str, Any]:
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    return {"label": "billing", "model": "gpt-4o-mini", "usage": usage, "cost": cost}


def _run(
    engine: Engine, tenant_id: str, flow_id: str, *steps: tuple[str, str, str, dict[str, Any]]
) -> None:
    """One completed run with steps (node_id, node_type, status, result)."""
    execution_id = insert_execution(engine, tenant_id, flow_id, status="completed", created_at=DAY1)
    with session_scope(engine) as session:
        for seq, (node_id, node_type, status, result) in enumerate(steps, start=1):
            session.add(
                ExecutionStep(
                    execution_id=execution_id,
                    tenant_id=tenant_id,
                    seq=seq,
                    node_id=node_id,
                    node_type=node_type,
                    status=status,
                    started_at=DAY1,
                    result=result,
                )
            )


async def test_ai_usage_sums_tokens_and_cost_per_ai_step_and_per_flow(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    triage = await make_flow(api, tenant, name="Triage")
    plain = await make_flow(api, tenant, name="Plain")
    _run(
        engine,
        tenant.id,
        triage["id"],
        ("classify", "ai_classify", "success", _ai_result(100, 10, 0.002)),
        ("draft", "ai_generate", "success", _ai_result(300, 200, None)),  # an unpriced model
        ("lookup", "http", "success", {"status": 200, "usage": {"total_tokens": 9}}),
    )
    _run(
        engine,
        tenant.id,
        triage["id"],
        ("classify", "ai_classify", "success", _ai_result(50, 5, 0.001)),
        ("draft", "ai_generate", "failed", {}),  # failed: its answer, and usage, not kept
    )
    _run(engine, tenant.id, plain["id"], ("lookup", "http", "success", {}))
    foreign = await make_flow(api, other_tenant, name="Theirs")
    _run(
        engine,
        other_tenant.id,
        foreign["id"],
        ("classify", "ai_classify", "success", _ai_result(9, 9, 9.0)),
    )

    report = await api.get(
        f"/api/analytics/flows/{triage['id']}", params=WINDOW, headers=tenant.auth("viewer")
    )
    assert report.status_code == 200, report.text
    assert report.json()["ai_usage"] == [
        {
            "node_id": "classify",
            "steps": 2,
            "prompt_tokens": 150,
            "completion_tokens": 15,
            "total_tokens": 165,
            "priced_steps": 2,
            "cost": pytest.approx(0.003),
        },
        {
            "node_id": "draft",
            "steps": 1,
            "prompt_tokens": 300,
            "completion_tokens": 200,
            "total_tokens": 500,
            "priced_steps": 0,
            "cost": 0.0,
        },
    ]

    assert report.json()["currency"] == "USD"  # FLOWDECK_PRICE_CURRENCY's default

    overview = await api.get(
        "/api/analytics/overview", params=WINDOW, headers=tenant.auth("viewer")
    )
    assert overview.json()["ai_usage"] == [
        {
            "flow_id": triage["id"],
            "steps": 3,
            "prompt_tokens": 450,
            "completion_tokens": 215,
            "total_tokens": 665,
            "priced_steps": 2,
            "cost": pytest.approx(0.003),
        }
    ]
