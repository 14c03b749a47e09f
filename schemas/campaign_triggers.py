"""The `campaign` trigger: a flow assigned to a campaign for `outbound_start`, `inbound_start`
or `manual`, the trigger data its runs get, and its conditions.

Conditions have the lead conditions' shape and comparison rules (`{"field", "op", "value"}`,
ops `eq ne contains any`; every one must hold) on either a path into the run's trigger data
(`trigger.agent_id`, `trigger.context.language`) or a contact field (`lead_source`, `tags`,
`custom.plan` …). Pure functions, like `schemas.triggers`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.event_triggers import TRIGGER_FIELD, TRIGGER_FIELD_TEXT, value_at
from schemas.triggers import (
    CONTACT_FIELDS_TEXT,
    FIELD_PATTERN,
    LeadCondition,
    field_matching,
    field_value,
    value_holds,
)

CAMPAIGN = "campaign"
CampaignTrigger = Literal["outbound_start", "inbound_start", "manual"]
CAMPAIGN_FIELD = f"{TRIGGER_FIELD}|{FIELD_PATTERN}"
"""`trigger.<path>` into the trigger data, or a contact field as lead conditions name it."""


class CampaignFlowTrigger(BaseModel):
    """A flow's own `campaign` trigger: which of a campaign's triggers it is written for. What
    fires it is an assignment to a campaign (`/api/campaigns/{id}/flows`), which names the
    campaign and may name another trigger; a key it could not use is refused."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["campaign"]
    campaign_trigger: CampaignTrigger


class CampaignCondition(LeadCondition):
    """`{"field": "trigger.context.language", "op": "eq", "value": "hi"}`; all must hold. A
    lead condition whose field may also be a path into the trigger data."""

    field: Annotated[
        str,
        field_matching(CAMPAIGN_FIELD, f"{TRIGGER_FIELD_TEXT}, or {CONTACT_FIELDS_TEXT}"),
        Field(json_schema_extra={"pattern": CAMPAIGN_FIELD}),
    ]


def trigger_data(
    trigger: str,
    *,
    campaign_id: str,
    call_id: str,
    agent_id: str | None,
    contact_id: str,
    context: dict[str, Any],
) -> dict[str, Any]:
    """A run's `trigger.*`: the campaign, its trigger, the call, the agent (none for an inbound
    call), the contact and the caller's `context` (as `trigger.context`)."""
    return {
        "type": CAMPAIGN,
        "campaign_trigger": trigger,
        "campaign_id": campaign_id,
        "call_id": call_id,
        "agent_id": agent_id,
        "contact_id": contact_id,
        "context": context,
    }


def _actual(field: str, data: dict[str, Any], contact: dict[str, Any]) -> Any:
    return value_at(data, field) if field.startswith("trigger.") else field_value(contact, field)


def judge(
    conditions: list[CampaignCondition], data: dict[str, Any], contact: dict[str, Any]
) -> tuple[bool, str]:
    """Whether every condition holds for the trigger data and the contact, and why (not)."""
    for condition in conditions:
        actual = _actual(condition.field, data, contact)
        if not value_holds(condition.op, actual, condition.value):
            shown = "none" if actual in (None, "", []) else repr(actual)
            return False, f"{condition.describe()} does not hold ({condition.field} is {shown})"
    if not conditions:
        return True, "matched: no conditions"
    return True, "matched " + " and ".join(c.describe() for c in conditions)
