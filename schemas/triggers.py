"""Which `lead_created` flow a contact enters: trigger conditions and priorities.

Pure functions over a contact dict (`{name, phone, email, lead_source, entry_type, tags,
custom}`), so the API and the tests call them without a server or a database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

LEAD_CREATED = "lead_created"
DNC_TAG = "dnc"
DNC_REASON = "contact is tagged DNC"
CONTACT_FIELDS = ("lead_source", "entry_type", "tags", "name", "email", "phone")
FIELD_PATTERN = r"^(lead_source|entry_type|tags|name|email|phone|custom\.[A-Za-z0-9_\-]{1,64})$"
CONTACT_FIELDS_TEXT = "one of lead_source, entry_type, tags, name, email, phone, or custom.<name>"


def field_matching(pattern: str, what: str) -> AfterValidator:
    """A condition's `field` that must match `pattern` (kept in the JSON Schema), refused in
    words a user reads (`what` it must be), not with the pattern."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            shown = value if len(value) <= 80 else value[:80] + "…"
            raise ValueError(f"field must be {what}; got {shown!r}")
        return value

    return AfterValidator(check)


LeadField = Annotated[
    str,
    field_matching(FIELD_PATTERN, CONTACT_FIELDS_TEXT),
    Field(json_schema_extra={"pattern": FIELD_PATTERN}),
]

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
"""A phone number in E.164: `+` and 7 to 15 digits."""

Op = Literal["eq", "ne", "contains", "any"]


class LeadCondition(BaseModel):
    """`{"field": "lead_source", "op": "eq", "value": "IndiaMART"}`; every condition must hold."""

    model_config = ConfigDict(extra="forbid")

    field: LeadField
    op: Op
    value: Any
    """Required (`null` included); a list of choices for `any`."""

    @field_validator("value")
    @classmethod
    def _any_takes_a_list(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("op") == "any" and not isinstance(value, list):
            raise ValueError("`any` takes a list of values")
        return value

    def describe(self) -> str:
        value = ", ".join(map(str, self.value)) if isinstance(self.value, list) else self.value
        return f"{self.field} {self.op} {value}"


def is_dnc(contact: dict[str, Any]) -> bool:
    """Whether the contact carries a `DNC` tag, in any case."""
    tags = contact.get("tags") or []
    return any(isinstance(tag, str) and tag.strip().casefold() == DNC_TAG for tag in tags)


def field_value(contact: dict[str, Any], name: str) -> Any:
    """The contact's value of a condition field (`custom.product` reads `contact.custom`)."""
    if name.startswith("custom."):
        custom = contact.get("custom") or {}
        return custom.get(name.removeprefix("custom.")) if isinstance(custom, dict) else None
    return contact.get(name)


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().casefold()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)  # 5 and "5" are the same lead data
    return value


def _same(a: Any, b: Any) -> bool:
    return bool(_norm(a) == _norm(b))


def _contains(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, list):
        return any(_same(item, wanted) for item in actual)
    if actual is None or wanted is None:
        return False
    return str(_norm(wanted)) in str(_norm(actual))


def value_holds(op: Op, actual: Any, wanted: Any) -> bool:
    """Whether `actual op wanted` holds, with the lead conditions' comparison rules."""
    items = actual if isinstance(actual, list) else [actual]
    if op == "eq":
        return any(_same(item, wanted) for item in items)
    if op == "ne":
        return not any(_same(item, wanted) for item in items)
    if op == "contains":
        return _contains(actual, wanted)
    choices = wanted if isinstance(wanted, list) else [wanted]
    return any(_same(item, choice) for item in items for choice in choices)


def condition_holds(condition: LeadCondition, contact: dict[str, Any]) -> bool:
    return value_holds(condition.op, field_value(contact, condition.field), condition.value)


@dataclass(frozen=True, kw_only=True)
class ConditionProblem:
    """What is wrong with a trigger's `conditions`, where (`("conditions", 0, "op")`)."""

    loc: tuple[str | int, ...]
    kind: str
    """Pydantic's error type: `missing`, `extra_forbidden`, `literal_error` …"""
    message: str

    def path(self) -> str:
        """`conditions[0].op`."""
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.loc)[1:]


def _checked(raw: Any) -> tuple[list[LeadCondition], list[ConditionProblem]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [
            ConditionProblem(loc=("conditions",), kind="list_type", message="must be a list")
        ]
    conditions: list[LeadCondition] = []
    problems: list[ConditionProblem] = []
    for index, item in enumerate(raw):
        try:
            conditions.append(LeadCondition.model_validate(item))
        except ValidationError as exc:
            problems.extend(
                ConditionProblem(
                    loc=("conditions", index, *error["loc"]),
                    kind=error["type"],
                    message=error["msg"],
                )
                for error in exc.errors()
            )
    return conditions, problems


def condition_problems(raw: Any) -> list[ConditionProblem]:
    """Every problem of a trigger's `conditions` (empty when they are valid)."""
    return _checked(raw)[1]


def parse_conditions(raw: Any) -> list[LeadCondition]:
    """A trigger's `conditions`; raises ValueError naming the first bad one."""
    conditions, problems = _checked(raw)
    if problems:
        raise ValueError(f"{problems[0].path()}: {problems[0].message}")
    return conditions


def _as_text(value: Any) -> str:
    return "none" if value in (None, "", []) else repr(value)


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """An enabled, published `lead_created` flow of the tenant."""

    flow_id: str
    name: str
    priority: int | None
    created_at: datetime
    conditions: Any = None


@dataclass(kw_only=True)
class Verdict:
    flow_id: str
    name: str
    priority: int | None
    matched: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow_id": self.flow_id,
            "name": self.name,
            "priority": self.priority,
            "matched": self.matched,
            "reason": self.reason,
        }


@dataclass(kw_only=True)
class Match:
    """The flow that won (None: no flow matched), why, and every candidate's verdict."""

    flow_id: str | None
    priority: int | None
    reason: str
    candidates: list[Verdict] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow_id": self.flow_id,
            "priority": self.priority,
            "reason": self.reason,
            "candidates": [c.as_dict() for c in self.candidates],
        }


def judge(candidate: Candidate, contact: dict[str, Any]) -> tuple[bool, str]:
    """Whether every condition holds for the contact, and why (not)."""
    try:
        conditions = parse_conditions(candidate.conditions)
    except ValueError as exc:
        return False, f"invalid trigger condition: {exc}"
    for condition in conditions:
        if not condition_holds(condition, contact):
            actual = _as_text(field_value(contact, condition.field))
            return False, f"{condition.describe()} does not hold ({condition.field} is {actual})"
    if not conditions:
        return True, "matched: no conditions (every lead)"
    return True, "matched " + " and ".join(c.describe() for c in conditions)


def _rank(candidate: Candidate) -> tuple[bool, int, datetime, str]:
    """Lower wins: flows with a priority before those without, then by number, then age."""
    priority = candidate.priority
    return (priority is None, priority or 0, candidate.created_at, candidate.flow_id)


def choose_flow(candidates: Iterable[Candidate], contact: dict[str, Any]) -> Match:
    """The one flow a new lead enters: the best-ranked among those whose conditions all hold."""
    return choose(
        candidates,
        lambda candidate: judge(candidate, contact),
        none_reason="no enabled, published lead_created flow matches",
    )


def choose(
    candidates: Iterable[Candidate],
    verdict: Callable[[Candidate], tuple[bool, str]],
    *,
    none_reason: str,
) -> Match:
    """The best-ranked candidate whose `verdict` holds (any trigger's), and every verdict."""
    ordered: Sequence[Candidate] = sorted(candidates, key=_rank)
    verdicts: list[Verdict] = []
    winner: Candidate | None = None
    winning_reason = none_reason
    for candidate in ordered:
        matched, reason = verdict(candidate)
        if matched and winner is None:
            winner, winning_reason = candidate, reason
        elif matched and winner is not None:
            reason = f"{reason}, but flow {winner.name!r} ranks higher"
        verdicts.append(
            Verdict(
                flow_id=candidate.flow_id,
                name=candidate.name,
                priority=candidate.priority,
                matched=matched,
                reason=reason,
            )
        )
    return Match(
        flow_id=winner.flow_id if winner else None,
        priority=winner.priority if winner else None,
        reason=winning_reason,
        candidates=verdicts,
    )
