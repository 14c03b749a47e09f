"""Conditions as a flow author writes them, evaluated against an execution's context."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from schemas.conditions import Condition
from schemas.evaluate import choose_case, evaluate, resolve
from schemas.flow import SplitCase

CONDITION = TypeAdapter[Condition](Condition)

CONTEXT: dict[str, Any] = {
    "contact": {
        "name": "Asha Rao",
        "score": "72",
        "age": 41,
        "email": "",
        "phone": None,
        "tags": ["vip", "IndiaMART"],
        "custom": {"plan": "gold"},
        "created": "2024-05-01T10:00:00+05:30",
        "birthday": "1990-02-14",
    },
    "steps": {"order": {"body": {"items": [{"sku": "P-1"}, {"sku": "P-2"}], "status": "shipped"}}},
    "call": {"digits": "01", "speech": "Sales, please!"},
    "vars": {"count": 3, "flag": True, "empty_list": [], "ratio": 0.5},
}


def holds(condition: dict[str, Any], context: dict[str, Any] = CONTEXT) -> bool:
    return evaluate(CONDITION.validate_python(condition), context)


def test_resolve_walks_dicts_and_list_indexes() -> None:
    assert resolve(CONTEXT, "steps.order.body.items.1.sku") == (True, "P-2")
    assert resolve(CONTEXT, "steps.order.body.items.-1.sku") == (True, "P-2")
    assert resolve(CONTEXT, "contact.phone") == (True, None)
    assert resolve(CONTEXT, "contact.missing") == (False, None)
    assert resolve(CONTEXT, "steps.order.body.items.9") == (False, None)
    assert resolve(CONTEXT, "steps.order.body.items.sku") == (False, None)
    assert resolve(CONTEXT, "contact.name.first") == (False, None)


@pytest.mark.parametrize(
    ("var", "op", "value", "expected"),
    [
        ("contact.custom.plan", "eq", "gold", True),
        ("contact.custom.plan", "eq", "Gold", False),
        ("contact.age", "eq", 41, True),
        ("contact.score", "eq", 72, True),  # a number given as a string
        ("contact.age", "eq", "41", True),
        ("call.digits", "eq", "1", False),  # two strings compare as text: "01" is not "1"
        ("vars.flag", "eq", "true", True),
        ("vars.flag", "eq", 1, False),
        ("contact.phone", "eq", None, True),
        ("contact.custom.plan", "ne", "silver", True),
        ("contact.custom.plan", "ne", "gold", False),
        ("contact.score", "gt", 50, True),
        ("contact.score", "gt", 72, False),
        ("contact.score", "gte", 72, True),
        ("contact.score", "lt", "100", True),
        ("contact.age", "lte", 41, True),
        ("contact.age", "lt", 41, False),
        ("vars.ratio", "lt", "0.75", True),
        ("contact.name", "gt", 1, False),  # "abc" gt 1 is false, not an error
        ("contact.custom.plan", "gt", "alpha", True),  # two words order as text
        ("contact.tags", "gt", 1, False),
        ("contact.name", "contains", "Rao", True),
        ("contact.name", "contains", "rao", False),
        ("contact.tags", "contains", "vip", True),
        ("contact.tags", "contains", "gold", False),
        ("contact.custom", "contains", "plan", True),
        ("contact.name", "not_contains", "Smith", True),
        ("contact.tags", "not_contains", "vip", False),
        ("contact.name", "starts_with", "Asha", True),
        ("contact.name", "starts_with", "Rao", False),
        ("contact.name", "ends_with", "Rao", True),
        ("contact.age", "ends_with", "1", True),
        ("contact.custom.plan", "in", ["gold", "platinum"], True),
        ("contact.custom.plan", "in", "silver, gold", True),
        ("contact.score", "in", [70, 72], True),
        ("contact.custom.plan", "in", ["silver"], False),
        ("contact.custom.plan", "not_in", ["silver"], True),
        ("contact.custom.plan", "not_in", ["gold"], False),
        ("contact.email", "is_empty", None, True),
        ("contact.phone", "is_empty", None, True),
        ("vars.empty_list", "is_empty", None, True),
        ("contact.name", "is_empty", None, False),
        ("vars.count", "is_empty", None, False),
        ("contact.name", "is_not_empty", None, True),
        ("contact.email", "is_not_empty", None, False),
        ("contact.name", "exists", None, True),
        ("contact.email", "exists", None, True),
        ("contact.phone", "exists", None, False),  # present but null
        ("contact.name", "regex", r"^Asha\s", True),
        ("contact.name", "regex", r"Rao", True),  # search, not match
        ("contact.name", "regex", r"^Rao", False),
        ("contact.age", "regex", r"^\d+$", True),
        ("contact.name", "regex", r"([unclosed", False),  # invalid regex is false
        ("contact.created", "before", "2024-05-01T05:00:00Z", True),  # 04:30 UTC
        ("contact.created", "after", "2024-05-01T04:00:00Z", True),
        ("contact.created", "after", "2024-05-02", False),
        ("contact.birthday", "before", "2000-01-01", True),
        ("contact.birthday", "after", "1990-02-14T00:00:00", False),  # same moment
        ("contact.name", "before", "2024-01-01", False),  # not a date
    ],
)
def test_every_op(var: str, op: str, value: Any, expected: bool) -> None:
    assert holds({"var": var, "op": op, "value": value}) is expected


def test_speech_compares_case_and_punctuation_insensitively() -> None:
    assert holds({"var": "call.speech", "op": "eq", "value": "sales please"})
    assert holds({"var": "call.speech", "op": "eq", "value": "SALES PLEASE."})
    assert holds({"var": "call.speech", "op": "contains", "value": "Sales"})
    assert holds({"var": "call.speech", "op": "starts_with", "value": "sales,"})
    assert holds({"var": "call.speech", "op": "in", "value": ["support", "sales, please"]})
    assert not holds({"var": "call.speech", "op": "contains", "value": "support"})
    context = {"call": {"speech": "Sales!"}}
    assert holds({"var": "call.speech", "op": "eq", "value": "sales"}, context)
    assert holds({"var": "call.speech", "op": "ne", "value": "support"}, context)


def test_other_text_stays_case_sensitive() -> None:
    context = {"contact": {"speech_note": "Sales!"}}
    assert not holds({"var": "contact.speech_note", "op": "eq", "value": "sales"}, context)


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("eq", False),
        ("ne", True),
        ("gt", False),
        ("gte", False),
        ("lt", False),
        ("lte", False),
        ("contains", False),
        ("not_contains", True),
        ("starts_with", False),
        ("ends_with", False),
        ("in", False),
        ("not_in", True),
        ("is_empty", True),
        ("is_not_empty", False),
        ("exists", False),
        ("regex", False),
        ("before", False),
        ("after", False),
    ],
)
def test_a_missing_variable(op: str, expected: bool) -> None:
    condition = {"var": "contact.nickname", "op": op, "value": "x"}
    assert holds(condition) is expected
    condition = {"var": "nothing.at.all", "op": op, "value": "x"}
    assert holds(condition) is expected


def test_value_is_literal_never_a_template() -> None:
    context = {"contact": {"name": "{{ vars.x }}"}, "vars": {"x": "Ann"}}
    assert holds({"var": "contact.name", "op": "eq", "value": "{{ vars.x }}"}, context)


def test_all_any_not() -> None:
    high = {"var": "contact.score", "op": "gt", "value": 50}
    low = {"var": "contact.score", "op": "lt", "value": 10}
    assert holds({"all": [high, {"var": "contact.tags", "op": "contains", "value": "vip"}]})
    assert not holds({"all": [high, low]})
    assert holds({"any": [low, high]})
    assert not holds({"any": [low, {"not": high}]})
    assert holds({"not": low})
    assert holds({"not": {"all": [high, low]}})
    assert holds({"any": [{"all": [high, {"not": low}]}, low]})


def test_choose_case_takes_the_first_case_that_holds_else_else() -> None:
    cases = [
        SplitCase.model_validate(
            {"port": "sales", "when": {"var": "call.speech", "op": "contains", "value": "sales"}}
        ),
        SplitCase.model_validate(
            {"port": "anything", "when": {"var": "call.digits", "op": "is_not_empty"}}
        ),
    ]
    assert choose_case(cases, CONTEXT) == "sales"
    assert choose_case(cases, {"call": {"digits": "2", "speech": ""}}) == "anything"
    assert choose_case(cases, {"call": {}}) == "else"
