"""Flows and their versions: settings, drafts, publishing, rollback.

A flow's settings (trigger, priority, hours, cooldown) live on the flow; its graph lives in
numbered versions. A version is a draft until published; a published version is immutable and
becomes archived when another one is published.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from schemas.api_errors import invalid_flow_response
from schemas.flow import FlowDocument
from schemas.hours import BusinessHours
from schemas.validation import (
    DEFAULT_LIMITS,
    FlowLimits,
    Problem,
    ValidationReport,
    validate_flow,
)
from store.errors import ConflictError, InvalidInputError, NotFoundError
from store.events import record_event
from store.models import Deployment, Flow, FlowVersion, Tenant, utcnow
from store.tenants import hours_in

FLOW_FIELDS = frozenset(
    {
        "name",
        "description",
        "enabled",
        "priority",
        "trigger",
        "business_hours",
        "cooldown_minutes",
    }
)
DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"

DocumentCheck = Callable[[FlowDocument], None]
"""A check of a valid document before it is published; raises to refuse it."""


# --- definitions -------------------------------------------------------------------------


def reroot_path(path: str, at: str) -> str:
    """A path inside the flow document (`$.nodes[0]`) as a path inside the request (`at`)."""
    return at + path.removeprefix("$")


def problem_detail(problem: Problem, *, at: str) -> dict[str, Any]:
    return {
        "path": reroot_path(problem.path, at),
        "code": problem.code,
        "message": problem.message,
        "severity": problem.severity,
    }


LIMIT_CODES = frozenset({"too_large", "too_many_nodes", "too_deep"})
"""Problems that stop validation at once: the only problem reported, and said up front."""


def invalid_flow_error(report: ValidationReport, *, at: str = "$.definition") -> InvalidInputError:
    """The error for a document with errors, each at its path inside the request (`at`)."""
    body = invalid_flow_response(report, prefix=at).error
    message = body.message
    over = [p for p in report.errors if p.code in LIMIT_CODES]
    if over:
        message = f"{message}: {over[0].message}"
    return InvalidInputError(
        message, code=body.code, details=[d.model_dump() for d in body.details]
    )


def check_definition(
    definition: Any, *, at: str = "$.definition", limits: FlowLimits = DEFAULT_LIMITS
) -> FlowDocument:
    """The parsed document, or InvalidInputError listing every error with its path.

    `limits` come from the settings (`Settings.flow_limits`), handed down by the API.
    """
    report, document = validate_flow(definition, limits=limits)
    if not report.valid or document is None:
        raise invalid_flow_error(report, at=at)
    return document


def check_draft(
    definition: Any, *, partial: bool, at: str = "$.definition", limits: FlowLimits = DEFAULT_LIMITS
) -> None:
    """A draft may be saved unfinished (`partial`, as the builder saves as you go): then only
    its shape and size are enforced (a JSON object within `limits`), and its problems are
    listed beside it until publishing, which refuses them. Otherwise it must validate."""
    if not partial:
        check_definition(definition, at=at, limits=limits)
        return
    if not isinstance(definition, dict):
        raise InvalidInputError(
            "a flow's definition is a JSON object",
            details=[{"path": at, "code": "type", "message": "expected an object"}],
        )
    report, _ = validate_flow(definition, limits=limits)
    if any(p.code in LIMIT_CODES for p in report.errors):
        raise invalid_flow_error(report, at=at)


_AS_SAVED = FlowLimits(max_nodes=sys.maxsize, max_definition_bytes=sys.maxsize, max_depth=10_000)
"""A stored draft was held to the limits when it was saved: only its problems count now."""


def draft_problems(version: FlowVersion, *, at: str = "$.definition") -> list[dict[str, Any]]:
    """What stops a draft from being published or run, then its warnings, each at its path;
    nothing for published and archived versions (they validated when published)."""
    if version.status != DRAFT:
        return []
    report, _ = validate_flow(version.definition, limits=_AS_SAVED)
    return [problem_detail(p, at=at) for p in [*report.errors, *report.warnings]]


# --- flows -------------------------------------------------------------------------------


def list_flows(session: Session, *, tenant_id: str) -> list[Flow]:
    """The tenant's live flows, by priority (unprioritised last), then age."""
    query = (
        select(Flow)
        .where(Flow.tenant_id == tenant_id, col(Flow.deleted_at).is_(None))
        .order_by(col(Flow.priority).is_(None), col(Flow.priority), col(Flow.created_at))
    )
    return list(session.exec(query).all())


def published_flows_with(session: Session, *, trigger_type: str) -> list[Flow]:
    """Every tenant's published, undeleted flows whose trigger has this type (for sweeps)."""
    query = select(Flow).where(
        col(Flow.deleted_at).is_(None), col(Flow.published_version).is_not(None)
    )
    return [
        flow
        for flow in session.exec(query).all()
        if isinstance(flow.trigger, dict) and flow.trigger.get("type") == trigger_type
    ]


def get_flow(session: Session, *, tenant_id: str, flow_id: str) -> Flow:
    flow = session.get(Flow, flow_id)
    if flow is None or flow.tenant_id != tenant_id or flow.deleted_at is not None:
        raise NotFoundError(f"flow {flow_id} not found")
    return flow


def _check_priority_free(
    session: Session, *, tenant_id: str, priority: int | None, flow_id: str | None
) -> None:
    if priority is None:
        return
    holder = session.exec(
        select(Flow).where(Flow.tenant_id == tenant_id, Flow.priority == priority)
    ).first()
    if holder is not None and holder.id != flow_id:
        raise ConflictError(f"priority {priority} is already held by flow {holder.id}")


def _commit(session: Session, clash: str) -> None:
    """Commit; a unique constraint hit by a concurrent request becomes a conflict."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError(clash) from exc


def create_flow(
    session: Session,
    *,
    tenant_id: str,
    fields: Mapping[str, Any],
    definition: Any | None = None,
    change_notes: str | None = None,
    created_by: str | None = None,
    limits: FlowLimits = DEFAULT_LIMITS,
) -> Flow:
    """A new flow; with a `definition`, its draft version 1 too."""
    _check_fields(fields)
    if definition is not None:
        check_definition(definition, limits=limits)
    _check_priority_free(
        session, tenant_id=tenant_id, priority=fields.get("priority"), flow_id=None
    )
    flow = Flow(tenant_id=tenant_id, **fields)
    session.add(flow)
    if definition is not None:
        session.add(
            FlowVersion(
                flow_id=flow.id,
                tenant_id=tenant_id,
                number=1,
                definition=definition,
                change_notes=change_notes,
                created_by=created_by,
            )
        )
    _commit(session, "a flow with this priority was just created")
    return flow


def update_flow(
    session: Session, *, tenant_id: str, flow_id: str, changes: Mapping[str, Any]
) -> Flow:
    """Change a flow's settings; publishing never touches them, nor do they need a version."""
    _check_fields(changes)
    flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    if "priority" in changes:
        _check_priority_free(
            session, tenant_id=tenant_id, priority=changes["priority"], flow_id=flow.id
        )
    for name, value in changes.items():
        setattr(flow, name, value)
    flow.updated_at = utcnow()
    session.add(flow)
    _commit(session, "another flow took this priority meanwhile")
    return flow


def delete_flow(session: Session, *, tenant_id: str, flow_id: str) -> None:
    """Soft delete: the flow stops triggering and frees its priority; executions stay.

    A flow a number answers with (or falls back to) is refused: deploy another flow first.
    """
    flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    answering = session.exec(
        select(Deployment.number).where(
            sa.or_(col(Deployment.flow_id) == flow_id, col(Deployment.fallback_flow_id) == flow_id),
            col(Deployment.replaced_at).is_(None),
        )
    ).all()
    if answering:
        numbers = ", ".join(sorted(set(answering)))
        raise ConflictError(
            f"flow {flow_id} answers calls to {numbers}: deploy another flow there first"
        )
    flow.deleted_at = utcnow()
    flow.updated_at = flow.deleted_at
    flow.enabled = False
    flow.priority = None
    session.add(flow)
    session.commit()


def reorder_priorities(session: Session, *, tenant_id: str, order: Sequence[str]) -> list[Flow]:
    """Flows in `order` get priorities 1..n; other prioritised flows follow in their order."""
    if len(set(order)) != len(order):
        raise InvalidInputError(
            "a flow appears twice in `order`",
            details=[
                {"path": f"$.order[{i}]", "code": "duplicate", "message": f"{fid} is repeated"}
                for i, fid in enumerate(order)
                if fid in order[:i]
            ],
        )
    flows = {f.id: f for f in list_flows(session, tenant_id=tenant_id)}
    missing = [i for i, fid in enumerate(order) if fid not in flows]
    if missing:
        raise InvalidInputError(
            "unknown flows in `order`",
            details=[
                {"path": f"$.order[{i}]", "code": "not_found", "message": "no such flow"}
                for i in missing
            ],
        )
    others = [f for f in flows.values() if f.id not in order and f.priority is not None]
    ranked = [flows[fid] for fid in order] + sorted(others, key=lambda f: f.priority or 0)
    # Clear first in one statement: assigning row by row would clash with the unique
    # (tenant, priority) constraint halfway through a swap.
    session.execute(sa.update(Flow).where(col(Flow.tenant_id) == tenant_id).values(priority=None))
    now = utcnow()
    for rank, flow in enumerate(ranked, start=1):
        flow.priority = rank
        flow.updated_at = now
        session.add(flow)
    _commit(session, "priorities changed meanwhile; try again")
    return list_flows(session, tenant_id=tenant_id)


def business_hours_of(session: Session, *, flow: Flow) -> dict[str, Any] | None:
    """The flow's business hours, else its tenant's (one column read: every run asks)."""
    if flow.business_hours:
        return flow.business_hours
    found = session.execute(_TENANT_HOURS, {"id": flow.tenant_id}).first()
    return hours_in(found[0]) if found is not None else None


def business_hours_model(session: Session, *, flow: Flow) -> BusinessHours | None:
    """`business_hours_of`, as the model an execution's input carries."""
    raw = business_hours_of(session, flow=flow)
    return BusinessHours.model_validate(raw) if raw else None


def _check_fields(fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - FLOW_FIELDS
    if unknown:
        raise ValueError(f"not flow settings: {sorted(unknown)}")


# --- versions ----------------------------------------------------------------------------


def list_versions(session: Session, *, tenant_id: str, flow_id: str) -> list[FlowVersion]:
    get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    query = select(FlowVersion).where(FlowVersion.flow_id == flow_id)
    return list(session.exec(query.order_by(col(FlowVersion.number))).all())


def get_version(session: Session, *, tenant_id: str, flow_id: str, number: int) -> FlowVersion:
    get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    version = find_version(session, flow_id=flow_id, number=number)
    if version is None:
        raise NotFoundError(f"flow {flow_id} has no version {number}")
    return version


# Every run reads these: built once, SQLAlchemy finds their compiled form by a cache key it
# keeps on the object (a statement built per call is keyed anew each time).
_TENANT_HOURS = sa.select(col(Tenant.business_hours)).where(col(Tenant.id) == sa.bindparam("id"))
_VERSION = select(FlowVersion).where(
    FlowVersion.flow_id == sa.bindparam("flow_id"), FlowVersion.number == sa.bindparam("number")
)


def find_version(session: Session, *, flow_id: str, number: int) -> FlowVersion | None:
    """A version by number, whatever became of its flow (executions pin deleted flows too)."""
    return session.exec(_VERSION, params={"flow_id": flow_id, "number": number}).first()


def _next_number(session: Session, flow_id: str) -> int:
    newest = session.exec(
        select(func.max(FlowVersion.number)).where(FlowVersion.flow_id == flow_id)
    ).one()
    return int(newest or 0) + 1


def create_version(
    session: Session,
    *,
    tenant_id: str,
    flow_id: str,
    definition: Any,
    change_notes: str | None = None,
    created_by: str | None = None,
    limits: FlowLimits = DEFAULT_LIMITS,
    partial: bool = False,
) -> FlowVersion:
    """A new draft, numbered after the newest version (`check_draft` says what it must be)."""
    get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    check_draft(definition, partial=partial, limits=limits)
    version = FlowVersion(
        flow_id=flow_id,
        tenant_id=tenant_id,
        number=_next_number(session, flow_id),
        definition=definition,
        change_notes=change_notes,
        created_by=created_by,
    )
    session.add(version)
    _commit(session, "another version was saved at the same moment; try again")
    return version


def update_draft(
    session: Session,
    *,
    tenant_id: str,
    flow_id: str,
    number: int,
    definition: Any,
    change_notes: str | None = None,
    limits: FlowLimits = DEFAULT_LIMITS,
    partial: bool = False,
) -> FlowVersion:
    version = get_version(session, tenant_id=tenant_id, flow_id=flow_id, number=number)
    if version.status != DRAFT:
        raise ConflictError(
            f"version {number} is {version.status}: only drafts can be edited, "
            "create a new version instead"
        )
    check_draft(definition, partial=partial, limits=limits)
    version.definition = definition
    if change_notes is not None:
        version.change_notes = change_notes
    session.add(version)
    session.commit()
    return version


def _make_published(session: Session, *, flow: Flow, version: FlowVersion) -> None:
    """Publish `version` in the session: the current one is archived, an event is written."""
    now = utcnow()
    if flow.published_version is not None and flow.published_version != version.number:
        previous = find_version(session, flow_id=flow.id, number=flow.published_version)
        if previous is not None:
            previous.status = ARCHIVED
            session.add(previous)
    version.status = PUBLISHED
    version.published_at = now
    flow.published_version = version.number
    flow.updated_at = now
    session.add_all([version, flow])
    data: dict[str, Any] = {"version": version.number}
    if version.rolled_back_from is not None:
        data["rolled_back_from"] = version.rolled_back_from
    record_event(
        session, tenant_id=flow.tenant_id, type_="flow.published", flow_id=flow.id, data=data
    )


def publish_version(
    session: Session,
    *,
    tenant_id: str,
    flow_id: str,
    number: int,
    limits: FlowLimits = DEFAULT_LIMITS,
    check: DocumentCheck | None = None,
) -> FlowVersion:
    """Publish a draft after validating it again; the published one before it is archived.

    Validated against today's `limits`: a draft saved under looser ones is refused here
    rather than published to fail every run. `check` may refuse the valid document too (the
    API checks what it names against the tenant)."""
    flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    version = get_version(session, tenant_id=tenant_id, flow_id=flow_id, number=number)
    if version.status != DRAFT:
        hint = "" if version.status == PUBLISHED else ": roll back to it instead"
        raise ConflictError(f"version {number} is {version.status}, not a draft{hint}")
    document = check_definition(version.definition, limits=limits)
    if check is not None:
        check(document)
    _make_published(session, flow=flow, version=version)
    _commit(session, "the flow was published by someone else meanwhile; try again")
    return version


def rollback_to(
    session: Session,
    *,
    tenant_id: str,
    flow_id: str,
    number: int,
    created_by: str | None = None,
    limits: FlowLimits = DEFAULT_LIMITS,
    check: DocumentCheck | None = None,
) -> FlowVersion:
    """Publish a copy of an earlier published version as the newest version, checked as
    `publish_version` checks a draft."""
    flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    source = get_version(session, tenant_id=tenant_id, flow_id=flow_id, number=number)
    if source.status == DRAFT:
        raise ConflictError(f"version {number} is a draft that was never published: publish it")
    if source.number == flow.published_version:
        raise ConflictError(f"version {number} is already the published version")
    document = check_definition(source.definition, limits=limits)
    if check is not None:
        check(document)
    copy = FlowVersion(
        flow_id=flow_id,
        tenant_id=tenant_id,
        number=_next_number(session, flow_id),
        definition=source.definition,
        change_notes=f"Rollback to version {number}",
        created_by=created_by,
        rolled_back_from=number,
    )
    session.add(copy)
    _make_published(session, flow=flow, version=copy)
    _commit(session, "the flow changed meanwhile; try again")
    return copy


def version_to_run(session: Session, *, flow: Flow, number: int | None, test: bool) -> FlowVersion:
    """The version an execution pins: the published one unless a number is given.

    Archived versions may be run explicitly; drafts only in test runs.
    """
    if number is None:
        if flow.published_version is None:
            raise ConflictError(f"flow {flow.id} has no published version: publish one first")
        number = flow.published_version
    version = find_version(session, flow_id=flow.id, number=number)
    if version is None:
        raise InvalidInputError(
            f"flow {flow.id} has no version {number}",
            details=[{"path": "$.version", "code": "not_found", "message": "no such version"}],
        )
    if version.status == DRAFT and not test:
        raise InvalidInputError(
            f"version {number} is a draft",
            details=[
                {
                    "path": "$.version",
                    "code": "draft",
                    "message": 'drafts run only in test runs ("test": true)',
                }
            ],
        )
    errors = [p for p in draft_problems(version) if p["severity"] == "error"]
    if errors:
        first = f"{errors[0]['path']}: {errors[0]['message']}"
        raise InvalidInputError(
            f"version {number} is an unfinished draft ({len(errors)} problems; {first})",
            details=[{"path": "$.version", "code": "invalid_draft", "message": first}],
        )
    return version
