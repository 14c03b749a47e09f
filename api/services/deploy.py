"""Deploying a flow to phone numbers: the request's references checked (and what the
deployed version and the fallback flow name), then the move."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.services.references import (
    problem_details,
    reference_problems,
    references_error,
    stored_document,
)
from schemas.settings import Settings
from store import telephony
from store.campaigns import check_campaign_id
from store.errors import InvalidInputError, NotFoundError, check_known
from store.flows import find_version, get_flow, reroot_path, version_to_run
from store.models import Deployment, Flow, FlowVersion


def _check_fallback(session: Session, *, tenant_id: str, flow_id: str, fallback: str) -> Flow:
    path = "$.fallback_flow_id"
    if fallback == flow_id:
        raise InvalidInputError(
            "a flow cannot be its own fallback",
            details=[{"path": path, "code": "self", "message": "choose another flow"}],
        )
    try:
        flow = get_flow(session, tenant_id=tenant_id, flow_id=fallback)
    except NotFoundError as exc:
        raise InvalidInputError(
            str(exc), details=[{"path": path, "code": "not_found", "message": str(exc)}]
        ) from exc
    if flow.published_version is None:
        message = f"flow {fallback} has no published version"
        raise InvalidInputError(
            message, details=[{"path": path, "code": "not_published", "message": message}]
        )
    return flow


def _named_problems(
    session: Session,
    *,
    tenant_id: str,
    flow: Flow,
    version: FlowVersion | None,
    settings: Settings,
    at: str | None = None,
) -> list[dict[str, Any]]:
    """What `version` of `flow` names that a call could not find: at its node's path in the
    version's definition, or at `at` (the request's field naming that flow) with the node's
    path in the message."""
    document = stored_document(version.definition) if version is not None else None
    if version is None or document is None:
        return []
    problems = reference_problems(
        session,
        tenant_id=tenant_id,
        document=document,
        settings=settings,
        own=(flow.id, version.number),
    )
    if at is None:
        return problem_details(problems, at="$.definition")
    return [
        {
            "path": at,
            "code": p.code,
            "message": f"flow {flow.name!r}, version {version.number}, "
            f"{reroot_path(p.path, '$.definition')}: {p.message}",
        }
        for p in problems
    ]


def _number_ids(session: Session, *, tenant_id: str, numbers: Sequence[str]) -> list[str]:
    """The ids of the tenant's registered numbers, or 422 naming each unregistered entry."""
    known = telephony.find_tenant_numbers(session, tenant_id=tenant_id, numbers=numbers)
    check_known(
        numbers,
        known,
        path="$.phone_numbers",
        code="not_registered",
        problem=lambda n: f"{n} is not a phone number of this tenant (see /api/phone-numbers)",
        message="unknown phone numbers",
    )
    return [known[number].id for number in numbers]


def deploy_flow(
    session: Session,
    engine: Engine,
    *,
    tenant_id: str,
    flow_id: str,
    numbers: Sequence[str],
    environment: str,
    schedule: dict[str, Any] | None,
    fallback_flow_id: str | None,
    version: int | None,
    settings: Settings,
    campaign_id: str | None = None,
) -> list[Deployment]:
    """Point the numbers at the flow's version (the published one by default); calls to
    them belong to `campaign_id`. What that version and the fallback flow's published one
    name must exist (422 at each)."""
    flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    pinned = version_to_run(session, flow=flow, number=version, test=False)
    named = _named_problems(
        session, tenant_id=tenant_id, flow=flow, version=pinned, settings=settings
    )
    if fallback_flow_id is not None:
        fallback = _check_fallback(
            session, tenant_id=tenant_id, flow_id=flow_id, fallback=fallback_flow_id
        )
        assert fallback.published_version is not None  # else _check_fallback refused it
        published = find_version(session, flow_id=fallback.id, number=fallback.published_version)
        named += _named_problems(
            session,
            tenant_id=tenant_id,
            flow=fallback,
            version=published,
            settings=settings,
            at="$.fallback_flow_id",
        )
    if named:
        raise references_error(named)
    ids = _number_ids(session, tenant_id=tenant_id, numbers=numbers)
    if campaign_id is not None:
        check_campaign_id(session, tenant_id=tenant_id, campaign_id=campaign_id)
    session.rollback()  # end the read transaction before the deploy's own
    return telephony.deploy(
        engine,
        tenant_id=tenant_id,
        flow_id=flow.id,
        version=pinned.number,
        phone_number_ids=ids,
        environment=environment,
        schedule=schedule,
        fallback_flow_id=fallback_flow_id,
        campaign_id=campaign_id,
    )
