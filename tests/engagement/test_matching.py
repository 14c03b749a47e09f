"""Choosing the one flow a new lead enters: pure functions, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.triggers import Candidate, LeadCondition, choose_flow, condition_holds, is_dnc

LEAD = {
    "name": "Asha",
    "phone": "+919800000001",
    "lead_source": "IndiaMART",
    "entry_type": "integration",
    "tags": ["VIP", "steel"],
    "custom": {"product": "Steel pipes", "budget": 5000},
}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _holds(field: str, op: str, value: object) -> bool:
    return condition_holds(LeadCondition(field=field, op=op, value=value), LEAD)


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("lead_source", "eq", "indiamart", True),
        ("lead_source", "eq", "TradeIndia", False),
        ("lead_source", "ne", "website", True),
        ("lead_source", "ne", "INDIAMART", False),
        ("entry_type", "any", ["email", "integration"], True),
        ("entry_type", "any", ["email", "upload"], False),
        ("custom.product", "contains", "pipe", True),
        ("custom.product", "contains", "wire", False),
        ("custom.budget", "eq", "5000", True),
        ("custom.missing", "eq", "x", False),
        ("custom.missing", "ne", "x", True),
        ("tags", "contains", "vip", True),
        ("tags", "eq", "Steel", True),
        ("tags", "any", ["gold", "steel"], True),
        ("tags", "ne", "vip", False),
    ],
)
def test_conditions(field: str, op: str, value: object, expected: bool) -> None:
    assert _holds(field, op, value) is expected


def test_the_matching_flow_with_the_lowest_priority_number_wins() -> None:
    indiamart = [{"field": "lead_source", "op": "eq", "value": "IndiaMART"}]
    candidates = [
        Candidate(flow_id="b", name="B", priority=2, created_at=T0, conditions=indiamart),
        Candidate(flow_id="a", name="A", priority=1, created_at=T0, conditions=indiamart),
        Candidate(flow_id="none", name="Unranked", priority=None, created_at=T0, conditions=[]),
        Candidate(
            flow_id="web",
            name="Web",
            priority=3,
            created_at=T0,
            conditions=[{"field": "lead_source", "op": "eq", "value": "website"}],
        ),
    ]
    match = choose_flow(candidates, LEAD)
    assert (match.flow_id, match.priority) == ("a", 1)
    assert match.reason == "matched lead_source eq IndiaMART"
    verdicts = {c.flow_id: (c.matched, c.reason) for c in match.candidates}
    assert verdicts["b"] == (True, "matched lead_source eq IndiaMART, but flow 'A' ranks higher")
    assert verdicts["web"] == (
        False,
        "lead_source eq website does not hold (lead_source is 'IndiaMART')",
    )
    assert verdicts["none"][0] is True
    assert [c.flow_id for c in match.candidates] == ["a", "b", "web", "none"]


def test_without_priorities_the_oldest_flow_wins_and_bad_conditions_never_match() -> None:
    candidates = [
        Candidate(flow_id="new", name="New", priority=None, created_at=T0 + timedelta(1)),
        Candidate(flow_id="old", name="Old", priority=None, created_at=T0),
        Candidate(
            flow_id="bad",
            name="Bad",
            priority=1,
            created_at=T0,
            conditions=[{"field": "lead_source", "op": "like", "value": "x"}],
        ),
    ]
    match = choose_flow(candidates, LEAD)
    assert match.flow_id == "old"
    bad = next(c for c in match.candidates if c.flow_id == "bad")
    assert not bad.matched and bad.reason.startswith("invalid trigger condition")


def test_no_candidate_matches() -> None:
    match = choose_flow([], LEAD)
    assert match.flow_id is None and match.candidates == []


@pytest.mark.parametrize(
    ("tags", "dnc"), [(["DNC"], True), (["dnc "], True), (["Dnc-review"], False), (None, False)]
)
def test_dnc_in_any_case(tags: list[str] | None, dnc: bool) -> None:
    assert is_dnc({"tags": tags}) is dnc
