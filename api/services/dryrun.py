"""Test mode for a flow: which flow the contact would match, the simulated path, its cost.

Reads the flow, its version, its business hours and the stored templates it names; the walk
itself is `workflows.dryrun` (pure). Nothing is sent, no execution row or workflow is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from api.services.templates import load_contact
from schemas.ai_prompts import chat_body
from schemas.connections import full_settings
from schemas.flow import (
    AiCallNode,
    AiClassifyConfig,
    AiClassifyNode,
    AiGenerateConfig,
    EmailNode,
    FlowDocument,
)
from schemas.hours import BusinessHours
from schemas.settings import Settings
from schemas.steps import ports_of
from schemas.triggers import LEAD_CREATED, choose_flow, judge
from store.connections import list_connections
from store.errors import InvalidInputError
from store.flows import business_hours_of, get_flow, version_to_run
from store.matching import candidate_of, lead_flows
from store.models import Flow, utcnow
from store.templates import get_template
from workflows.dryrun import DryRun, Usage, dry_run

GENERIC_OUTCOMES = ("call", "reply")


def _check_outcomes(document: FlowDocument, outcomes: Mapping[str, str]) -> None:
    """A node id's outcome must be one of its ports; `call` one of an ai_call's."""
    nodes = document.by_id()
    details = []
    for key, port in outcomes.items():
        node = nodes.get(key)
        if node is not None and key not in GENERIC_OUTCOMES:
            allowed = ports_of(node)
            if isinstance(node, AiClassifyNode):
                allowed = (*allowed, *node.config.labels)  # the label it would answer
        elif key == "call":
            allowed = ports_of(AiCallNode(id="call", type="ai_call"))
        elif key == "reply":
            continue
        else:
            details.append(
                {"path": f"$.outcomes.{key}", "code": "unknown_node", "message": f"no node {key!r}"}
            )
            continue
        if port not in allowed:
            details.append(
                {
                    "path": f"$.outcomes.{key}",
                    "code": "unknown_port",
                    "message": f"expected one of {list(allowed)}",
                }
            )
    if details:
        raise InvalidInputError("unknown simulated outcomes", details=details)


def _stored_templates(
    session: Session, *, tenant_id: str, document: FlowDocument
) -> dict[tuple[str, str], dict[str, str | None]]:
    found: dict[tuple[str, str], dict[str, str | None]] = {}
    for node in document.nodes:
        if isinstance(node, EmailNode) and node.config.template:
            row = get_template(
                session, tenant_id=tenant_id, channel="email", name=node.config.template
            )
            if row is not None:
                found[("email", row.name)] = {
                    "subject": row.subject,
                    "body": row.body,
                    "html": row.html,
                }
    return found


AI_CONFIGS: dict[str, type[AiGenerateConfig | AiClassifyConfig]] = {
    "ai_generate": AiGenerateConfig,
    "ai_classify": AiClassifyConfig,
}


def _show_ai_requests(session: Session, *, tenant_id: str, steps: list[dict[str, Any]]) -> None:
    """What each AI step would send, and where: its connection's endpoint and model (its own
    model, else the connection's), the request's body; never the connection's key. (A
    connection the tenant lacks is warned of with every connector's, `_check_connections`.)"""
    ai_steps = [s for s in steps if s["type"] in AI_CONFIGS and "rendered" in s]
    if not ai_steps:
        return
    connections = {
        c.name: c
        for c in list_connections(session, tenant_id=tenant_id)
        if c.integration == "openai"
    }
    for entry in ai_steps:
        config = AI_CONFIGS[entry["type"]].model_validate(entry["rendered"])
        connection = connections.get(config.connection)
        settings = full_settings("openai", connection.settings) if connection else {}
        model = config.model or settings.get("model")
        entry["request"] = {
            "connection": config.connection,
            "url": f"{settings['base_url']}/chat/completions" if connection else None,
            "body": chat_body(config, model=model),
        }
        if entry.get("result") is not None:
            entry["result"]["model"] = model


def _check_connections(session: Session, *, tenant_id: str, steps: list[dict[str, Any]]) -> None:
    """A connector step whose connection the tenant lacks gets a warning: the run would fail
    there (publishing refuses it; a draft may still name one)."""
    calls = [s for s in steps if "calls" in s]
    if not calls:
        return
    known = {(c.name, c.integration) for c in list_connections(session, tenant_id=tenant_id)}
    for entry in calls:
        name, integration = entry["calls"]["connection"], entry["calls"]["integration"]
        if (name, integration) not in known:
            entry["warning"] = f"no {integration} connection named {name!r} in this tenant"


def _match(session: Session, *, flow: Flow, contact: dict[str, Any]) -> dict[str, Any]:
    """Whether a new lead with this contact would enter this flow, and which flows rank ahead."""
    trigger_type = (flow.trigger or {}).get("type")
    if trigger_type != LEAD_CREATED:
        return {
            "trigger": trigger_type,
            "matches": None,
            "reason": "this flow is not started by new leads (lead_created)",
            "better_flows": [],
            "would_run": None,
        }
    own = candidate_of(flow)
    candidates = lead_flows(session, tenant_id=flow.tenant_id)
    if all(c.id != flow.id for c in candidates):
        candidates.append(flow)  # disabled or unpublished: judged as if it were live
    verdicts = choose_flow([candidate_of(c) for c in candidates], contact).candidates
    mine = next(v for v in verdicts if v.flow_id == own.flow_id)
    ahead = verdicts[: verdicts.index(mine)]
    better = [v.as_dict() for v in ahead if v.matched]
    _, reason = judge(own, contact)
    live = flow.enabled and flow.published_version is not None
    return {
        "trigger": LEAD_CREATED,
        "matches": mine.matched,
        "reason": reason,
        "enabled": flow.enabled,
        "published": flow.published_version is not None,
        "priority": flow.priority,
        "better_flows": better,
        "would_run": mine.matched and live and not better,
    }


def cost_of(usage: Usage, settings: Settings) -> dict[str, Any]:
    parts = {
        "sms": usage.sms * settings.price_sms,
        "whatsapp": usage.whatsapp * settings.price_whatsapp,
        "email": usage.email * settings.price_email,
        "voice": usage.voice_minutes * settings.price_voice_per_min,
    }
    rounded = {k: round(v, 6) for k, v in parts.items()}
    return {
        **rounded,
        "total": round(sum(parts.values()), 6),
        "currency": settings.price_currency,
        "counts": {
            "sms": usage.sms,
            "whatsapp": usage.whatsapp,
            "email": usage.email,
            "voice_minutes": usage.voice_minutes,
        },
    }


def dry_run_flow(
    session: Session,
    *,
    settings: Settings,
    tenant_id: str,
    flow_id: str,
    contact: Mapping[str, Any] | None,
    contact_id: str | None,
    version: int | None,
    variables: Mapping[str, Any],
    outcomes: Mapping[str, str],
    start_at: datetime | None,
) -> dict[str, Any]:
    flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    pinned = version_to_run(session, flow=flow, number=version, test=True)
    document = FlowDocument.model_validate(pinned.definition)
    _check_outcomes(document, outcomes)
    if contact_id is not None:
        contact = load_contact(
            session, tenant_id=tenant_id, contact_id=contact_id, at="$.contact_id"
        )
    contact = dict(contact or {})
    hours = business_hours_of(session, flow=flow)
    trigger_type = (flow.trigger or {}).get("type", "manual")
    run: DryRun = dry_run(
        document,
        contact=contact,
        variables=variables,
        trigger={"type": trigger_type, "test": True},
        outcomes=outcomes,
        start_at=start_at or utcnow(),
        business_hours=BusinessHours.model_validate(hours) if hours else None,
        respect_business_hours=trigger_type == "lead_created",
        stored_templates=_stored_templates(session, tenant_id=tenant_id, document=document),
        execution={"flow": flow.id, "flow_name": flow.name, "version": pinned.number},
    )
    _show_ai_requests(session, tenant_id=tenant_id, steps=run.steps)
    _check_connections(session, tenant_id=tenant_id, steps=run.steps)
    return {
        "flow_id": flow.id,
        "version": pinned.number,
        "match": _match(session, flow=flow, contact=contact),
        "skips": run.skips,
        "steps": run.steps,
        "cost": cost_of(run.usage, settings),
        "ends": run.ends,
        "reason": run.reason,
    }
