"""Deploying a flow to phone numbers: the request's references checked, then the move."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from store import telephony
from store.campaigns import check_campaign_id
from store.errors import InvalidInputError, NotFoundError, check_known
from store.flows import get_flow, version_to_run
from store.models import Deployment


def _check_fallback(session: Session, *, tenant_id: str, flow_id: str, fallback: str) -> None:
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
    campaign_id: str | None = None,
) -> list[Deployment]:
    """Point the numbers at the flow's version (the published one by default); calls to
    them belong to `campaign_id`."""
    flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    pinned = version_to_run(session, flow=flow, number=version, test=False)
    if fallback_flow_id is not None:
        _check_fallback(session, tenant_id=tenant_id, flow_id=flow_id, fallback=fallback_flow_id)
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
