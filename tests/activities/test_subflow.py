"""prepare_subflow: resolves a published flow of the same tenant and creates the child's row."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from schemas.execution import SubflowStart, SubflowStartInput, workflow_id_for
from schemas.limits import STEP_INPUT_LIMIT_BYTES
from store.db import session_scope
from store.models import Execution, Flow, FlowVersion, Tenant
from tests.activities.conftest import DEFINITION, Runner, Seed, seed_tenant

HOURS = {"start": "09:30", "end": "18:30", "timezone": "Asia/Kolkata", "days": ["mon", "tue"]}


def add_flow(
    engine: Engine,
    tenant_id: str,
    *,
    versions: tuple[str, ...] = ("published",),
    **fields: Any,
) -> str:
    """A flow with versions 1..n in the given states; published_version follows them."""
    published = [n for n, s in enumerate(versions, start=1) if s == "published"]
    fields.setdefault("published_version", published[-1] if published else None)
    with session_scope(engine) as session:
        flow = Flow(tenant_id=tenant_id, name="Child flow", **fields)
        session.add(flow)
        session.flush()
        for number, status in enumerate(versions, start=1):
            definition = {**DEFINITION, "variables": {"version": number}}
            session.add(
                FlowVersion(
                    flow_id=flow.id,
                    tenant_id=tenant_id,
                    number=number,
                    status=status,
                    definition=definition,
                )
            )
        return flow.id


def request(seed: Seed, flow_id: str, **fields: Any) -> SubflowStartInput:
    values: dict[str, Any] = {
        "parent_execution_id": seed.execution_id,
        "tenant_id": seed.tenant_id,
        "flow_id": flow_id,
        "node_id": "child",
        "contact": {"name": "Asha", "phone": "+15550002222"},
        "variables": {"plan": "gold"},
        "test": True,
    }
    values.update(fields)
    return SubflowStartInput(**values)


async def prepare(
    runner: Runner, data: SubflowStartInput, *, activity_id: str = "7"
) -> SubflowStart:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, activity_id=activity_id)
    result: SubflowStart = await environment.run(runner.activities().prepare_subflow, data)
    return result


def children(engine: Engine, parent_id: str) -> list[Execution]:
    with session_scope(engine) as session:
        return list(
            session.exec(select(Execution).where(Execution.parent_execution_id == parent_id)).all()
        )


async def test_creates_a_pending_child_of_the_published_version(
    runner: Runner, seed: Seed, engine: Engine
) -> None:
    flow_id = add_flow(engine, seed.tenant_id, versions=("archived", "published", "draft"))

    start = await prepare(runner, request(seed, flow_id))

    [child] = children(engine, seed.execution_id)
    assert start.execution_id == child.id
    assert start.workflow_id == workflow_id_for(child.id) == child.workflow_id
    assert (child.status, child.version, child.flow_id, child.tenant_id) == (
        "pending",
        2,
        flow_id,
        seed.tenant_id,
    )
    assert child.contact == {"name": "Asha", "phone": "+15550002222"}
    assert (child.contact_name, child.contact_phone) == ("Asha", "+15550002222")
    assert child.variables == {"plan": "gold"}
    assert child.test is True
    assert start.input.execution_id == child.id
    assert start.input.parent_execution_id == seed.execution_id
    assert (start.input.flow_id, start.input.flow_name, start.input.version) == (
        flow_id,
        "Child flow",
        2,
    )
    assert start.input.definition.variables == {"version": 2}
    assert start.input.definition.start == "hello"
    assert start.input.variables == {"plan": "gold"}
    assert start.input.trigger["type"] == "subflow"


async def test_a_retry_finds_the_same_child(runner: Runner, seed: Seed, engine: Engine) -> None:
    flow_id = add_flow(engine, seed.tenant_id)

    first = await prepare(runner, request(seed, flow_id))
    second = await prepare(runner, request(seed, flow_id))

    assert first == second
    assert len(children(engine, seed.execution_id)) == 1


async def test_each_scheduled_subflow_gets_its_own_child(
    runner: Runner, seed: Seed, engine: Engine
) -> None:
    flow_id = add_flow(engine, seed.tenant_id)

    first = await prepare(runner, request(seed, flow_id), activity_id="3")
    second = await prepare(runner, request(seed, flow_id), activity_id="9")

    assert first.execution_id != second.execution_id
    assert len(children(engine, seed.execution_id)) == 2


async def test_a_requested_older_version_runs(runner: Runner, seed: Seed, engine: Engine) -> None:
    flow_id = add_flow(engine, seed.tenant_id, versions=("archived", "published"))

    start = await prepare(runner, request(seed, flow_id, version=1))

    assert start.input.version == 1
    assert start.input.definition.variables == {"version": 1}


async def test_another_tenants_flow_is_not_found(
    runner: Runner, seed: Seed, engine: Engine
) -> None:
    other = seed_tenant(engine)
    foreign_flow = add_flow(engine, other.tenant_id)

    with pytest.raises(ApplicationError) as caught:
        await prepare(runner, request(seed, foreign_flow))

    assert caught.value.type == "SubflowNotFound"
    assert caught.value.non_retryable
    assert "Child flow" not in caught.value.message  # nothing of the other tenant leaks
    assert children(engine, seed.execution_id) == []


async def test_a_parent_of_another_tenant_is_not_found(
    runner: Runner, seed: Seed, engine: Engine
) -> None:
    other = seed_tenant(engine)
    flow_id = add_flow(engine, other.tenant_id)

    with pytest.raises(ApplicationError) as caught:
        # Tenant `other` asking to hang a child under `seed`'s execution.
        await prepare(runner, request(seed, flow_id, tenant_id=other.tenant_id))

    assert caught.value.type == "ExecutionNotFound"
    assert children(engine, seed.execution_id) == []


@pytest.mark.parametrize(
    ("fields", "versions", "requested", "error_type", "words"),
    [
        (
            {"deleted_at": datetime(2025, 1, 1, tzinfo=UTC)},
            ("published",),
            None,
            "SubflowNotFound",
            "not found",
        ),
        ({"enabled": False}, ("published",), None, "SubflowNotRunnable", "disabled"),
        ({}, ("draft",), None, "SubflowNotRunnable", "no published version"),
        ({}, ("published", "draft"), 2, "SubflowNotRunnable", "is a draft"),
        ({}, ("published",), 5, "SubflowNotRunnable", "has no version 5"),
    ],
)
async def test_flows_that_cannot_run(
    runner: Runner,
    seed: Seed,
    engine: Engine,
    fields: dict[str, Any],
    versions: tuple[str, ...],
    requested: int | None,
    error_type: str,
    words: str,
) -> None:
    flow_id = add_flow(engine, seed.tenant_id, versions=versions, **fields)

    with pytest.raises(ApplicationError) as caught:
        await prepare(runner, request(seed, flow_id, version=requested))

    assert caught.value.type == error_type
    assert caught.value.non_retryable
    assert words in caught.value.message
    assert children(engine, seed.execution_id) == []


async def test_unknown_flow_is_not_found(runner: Runner, seed: Seed) -> None:
    with pytest.raises(ApplicationError) as caught:
        await prepare(runner, request(seed, "0" * 32))

    assert caught.value.type == "SubflowNotFound"


async def test_business_hours_of_the_flow_win_over_the_tenants(
    runner: Runner, seed: Seed, engine: Engine
) -> None:
    tenant_hours = {"start": "08:00", "end": "17:00", "timezone": "UTC", "days": ["mon"]}
    with session_scope(engine) as session:
        tenant = session.get(Tenant, seed.tenant_id)
        assert tenant is not None
        tenant.business_hours = tenant_hours
        session.add(tenant)
    own_hours = add_flow(engine, seed.tenant_id, business_hours=HOURS)
    inherits = add_flow(engine, seed.tenant_id)

    with_own = await prepare(runner, request(seed, own_hours), activity_id="1")
    with_tenants = await prepare(runner, request(seed, inherits), activity_id="2")

    assert with_own.input.business_hours is not None
    assert with_own.input.business_hours.model_dump() == HOURS
    assert with_tenants.input.business_hours is not None
    assert with_tenants.input.business_hours.model_dump() == tenant_hours


async def test_no_business_hours_anywhere(runner: Runner, seed: Seed, engine: Engine) -> None:
    start = await prepare(runner, request(seed, add_flow(engine, seed.tenant_id)))

    assert start.input.business_hours is None


async def test_a_child_whose_input_temporal_would_refuse_is_never_created(
    runner: Runner, seed: Seed, engine: Engine
) -> None:
    """Variables over the step-input limit fail the step at once, non-retryable, with the
    size in words; no child row is left behind for the sweep to start."""
    flow_id = add_flow(engine, seed.tenant_id)
    huge = {"notes": "x" * STEP_INPUT_LIMIT_BYTES}

    with pytest.raises(ApplicationError) as caught:
        await prepare(runner, request(seed, flow_id, variables=huge))

    assert caught.value.non_retryable
    assert "the subflow's input is" in caught.value.message
    assert "a workflow may start with" in caught.value.message
    assert children(engine, seed.execution_id) == []
