"""Flowdeck's custom search attributes: how its runs are found in the Temporal Web UI and
through Temporal's visibility API (`FlowdeckFlow = "…" AND FlowdeckStatus = "waiting"`).

Set when an execution's workflow starts, `FlowdeckStatus` kept current by the workflow as the
execution's status changes. A Temporal cluster must have them registered (`flowdeck dev`
registers them on its server; see the README for a cluster).
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)

from schemas.execution import ExecutionInput, ExecutionStatus

TENANT = SearchAttributeKey.for_keyword("FlowdeckTenant")
FLOW = SearchAttributeKey.for_keyword("FlowdeckFlow")
"""The flow's id."""
FLOW_NAME = SearchAttributeKey.for_keyword("FlowdeckFlowName")
VERSION = SearchAttributeKey.for_int("FlowdeckVersion")
STATUS = SearchAttributeKey.for_keyword("FlowdeckStatus")
"""The execution's status (SPEC §5), kept current by its workflow."""
CONTACT_PHONE = SearchAttributeKey.for_keyword("FlowdeckContactPhone")
CAMPAIGN = SearchAttributeKey.for_keyword("FlowdeckCampaign")
TRIGGER = SearchAttributeKey.for_keyword("FlowdeckTrigger")
"""What started it: `manual`, `lead_created`, `call_incoming`, `subflow`…"""

KEYS: Sequence[SearchAttributeKey[str] | SearchAttributeKey[int]] = (
    TENANT,
    FLOW,
    FLOW_NAME,
    VERSION,
    STATUS,
    CONTACT_PHONE,
    CAMPAIGN,
    TRIGGER,
)


def indexed(
    data: ExecutionInput, *, status: ExecutionStatus = ExecutionStatus.running
) -> TypedSearchAttributes:
    """What an execution's workflow starts with: each attribute it has a value for."""
    pairs: list[SearchAttributePair[str] | SearchAttributePair[int]] = [
        SearchAttributePair(TENANT, data.tenant_id),
        SearchAttributePair(FLOW, data.flow_id),
        SearchAttributePair(VERSION, data.version),
        SearchAttributePair(STATUS, str(status)),
        SearchAttributePair(TRIGGER, str(data.trigger.get("type") or "manual")),
    ]
    if data.flow_name:
        pairs.append(SearchAttributePair(FLOW_NAME, data.flow_name[:200]))
    phone = data.contact.get("phone")
    if phone:
        pairs.append(SearchAttributePair(CONTACT_PHONE, str(phone)[:32]))
    if data.campaign_id:
        pairs.append(SearchAttributePair(CAMPAIGN, data.campaign_id))
    return TypedSearchAttributes(pairs)


def memo(data: ExecutionInput) -> dict[str, str]:
    """What the Web UI shows with the run: the flow's name and version."""
    return {"flow": data.flow_name, "version": str(data.version)}
