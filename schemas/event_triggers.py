"""The `event` trigger: its shape, the trigger data a posted event gives a run, its conditions.

`{"type": "event", "event": "order.created", "conditions": [{"field": "trigger.intent",
"op": "eq", "value": "order_status"}]}`: `POST /api/events/order.created` starts the flow when
every condition on the event's trigger data holds. Pure functions, like `schemas.triggers`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.triggers import Op, field_matching, value_holds

EVENT = "event"
EVENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$"
"""`order.created`, `cart:abandoned`: letters, digits, `_ . : -`, at most 100."""
TRIGGER_FIELD = r"^trigger(\.[A-Za-z0-9_\-]{1,64}){1,8}$"
"""`trigger.intent`, `trigger.order.status`: a path into the run's trigger data."""
TRIGGER_FIELD_TEXT = "trigger.<key> or a path into it (trigger.order.status), up to 8 keys"
TriggerField = Annotated[
    str,
    field_matching(TRIGGER_FIELD, TRIGGER_FIELD_TEXT),
    Field(json_schema_extra={"pattern": TRIGGER_FIELD}),
]
RESERVED = ("type", "event", "contact_id", "payload")
"""Keys of the trigger data a payload's own keys cannot replace."""


class EventCondition(BaseModel):
    """`{"field": "trigger.intent", "op": "eq", "value": "order_status"}`; all must hold."""

    model_config = ConfigDict(extra="forbid")

    field: TriggerField
    op: Op
    value: Any

    def describe(self) -> str:
        value = ", ".join(map(str, self.value)) if isinstance(self.value, list) else self.value
        return f"{self.field} {self.op} {value}"


class EventTrigger(BaseModel):
    """An `event` trigger as a flow stores it."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["event"]
    event: str = Field(pattern=EVENT_NAME)
    conditions: list[EventCondition] = Field(default_factory=list, max_length=50)


def trigger_data(name: str, *, contact_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A run's `trigger.*`: the payload's keys at the top (`trigger.order_id`), and the whole
    payload as `trigger.payload`, beside the event's name and the contact's id."""
    kept = {k: v for k, v in payload.items() if k not in RESERVED}
    return {**kept, "type": EVENT, "event": name, "contact_id": contact_id, "payload": payload}


def value_at(data: dict[str, Any], field: str) -> Any:
    """The value of `trigger.a.b` in the trigger data, None where the path leads nowhere."""
    value: Any = data
    for part in field.split(".")[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def judge(conditions: list[EventCondition], data: dict[str, Any]) -> tuple[bool, str]:
    """Whether every condition holds for the trigger data, and why (not)."""
    for condition in conditions:
        actual = value_at(data, condition.field)
        if not value_holds(condition.op, actual, condition.value):
            shown = "none" if actual in (None, "", []) else repr(actual)
            return False, f"{condition.describe()} does not hold ({condition.field} is {shown})"
    if not conditions:
        return True, "matched: no conditions (every event of this name)"
    return True, "matched " + " and ".join(c.describe() for c in conditions)
