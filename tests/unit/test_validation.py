"""Flow validation: one test per rule, each asserting the JSON path and code of the problem."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from schemas.flow import FlowDocument
from schemas.validation import Problem, flow_json_schema, validate_flow
from tests.examples import EXAMPLE_FILES


def flow(*nodes: dict[str, Any], start: str | None = None) -> dict[str, Any]:
    return {"start": start or nodes[0]["id"], "nodes": list(nodes)}


def sms(node_id: str, **transitions: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "sms",
        "config": {"body": "Hi {{ contact.name }}"},
        "transitions": transitions or {},
        "continue_on_error": True,
    }


def node(
    node_id: str, node_type: str, config: dict[str, Any] | None = None, **transitions: str
) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": node_id, "type": node_type, "transitions": transitions}
    if config is not None:
        raw["config"] = config
    return raw


END = {"id": "done", "type": "end"}


def errors_of(raw: Any) -> list[tuple[str, str]]:
    report, document = validate_flow(raw)
    assert document is None
    assert not report.valid
    return [(p.path, p.code) for p in report.errors]


def only_error(raw: Any) -> Problem:
    report, document = validate_flow(raw)
    assert document is None
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


def test_a_sound_flow_is_valid_and_parsed() -> None:
    raw = flow(sms("hello", sent="done", failed="done"), END)
    report, document = validate_flow(raw)
    assert report.valid
    assert report.errors == []
    assert isinstance(document, FlowDocument)
    assert document.node("hello").type == "sms"


def test_document_must_be_an_object() -> None:
    problem = only_error(["not", "a", "flow"])
    assert (problem.path, problem.code) == ("$", "invalid_type")


def test_unknown_top_level_key() -> None:
    raw = flow(END) | {"colour": "blue"}
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.colour", "unknown_key")
    assert problem.message == "unknown key 'colour'"


def test_missing_start() -> None:
    raw = {"nodes": [END]}
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.start", "missing")


def test_start_pointing_to_no_node() -> None:
    problem = only_error(flow(END, start="call"))
    assert (problem.path, problem.code) == ("$.start", "unknown_node")
    assert "'call'" in problem.message


def test_unknown_node_type_lists_the_known_types() -> None:
    raw = flow(sms("a", sent="done"), END, {"id": "x", "type": "fax", "config": {}})
    raw["nodes"][0]["transitions"]["failed"] = "x"
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.nodes[2].type", "unknown_node_type")
    assert "'fax'" in problem.message
    assert "ai_call" in problem.message and "human_task" in problem.message


def test_missing_node_type() -> None:
    raw = flow(END, {"id": "x", "config": {}})
    assert ("$.nodes[1].type", "missing") in errors_of(raw)


def test_unknown_config_key() -> None:
    raw = flow(node("w", "wait", {"minutes": 5, "colour": "red"}, next="done"), END)
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.nodes[0].config.colour", "unknown_key")
    assert problem.message == "unknown key 'colour'"


def test_unknown_node_key() -> None:
    raw = flow(END | {"colour": "red"})
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.nodes[0].colour", "unknown_key")


def test_missing_required_config_key() -> None:
    raw = flow(node("text", "sms", {"to": "+15550001111"}, sent="done", failed="done"), END)
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.nodes[0].config.body", "missing")


def test_wrong_type() -> None:
    call = node("call", "ai_call", {"ring_timeout_s": "soon"}, answered="done", failed="done")
    problem = only_error(flow(call, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.ring_timeout_s", "invalid_type")


def test_union_alternatives_are_one_problem() -> None:
    loop = node("l", "loop", {"for_each": 5}, done="done")
    problem = only_error(flow(loop, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.for_each", "invalid_type")
    assert problem.message == "Input should be a valid string or a valid list"


def test_rule_of_a_config_is_reported_at_the_config() -> None:
    wait = node("w", "wait", {"minutes": 5, "until": "2030-01-01T09:00:00"}, next="done")
    problem = only_error(flow(wait, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config", "invalid_value")
    assert problem.message == "wait takes a duration or `until`, not both"


def test_bad_condition_op_is_one_problem_at_its_path() -> None:
    check = node("c", "condition", {"when": {"var": "contact.score", "op": "bigger", "value": 1}})
    check["transitions"] = {"true": "done", "false": "done"}
    problem = only_error(flow(check, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.when.op", "invalid_value")


def test_bad_nested_condition_path() -> None:
    when = {"any": [{"var": "call.digits", "op": "eq", "value": "1"}, {"var": "x", "op": "?"}]}
    check = node("c", "condition", {"when": when}, true="done", false="done")
    problem = only_error(flow(check, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.when.any[1].op", "invalid_value")


def test_duplicate_node_ids() -> None:
    raw = flow(sms("a", sent="done"), END, dict(END))
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.nodes[2].id", "duplicate_id")


def test_transition_to_a_missing_node() -> None:
    problem = only_error(flow(sms("a", sent="nowhere", failed="done"), END))
    assert (problem.path, problem.code) == ("$.nodes[0].transitions.sent", "unknown_node")


def test_unknown_port() -> None:
    problem = only_error(flow(sms("a", delivered="done"), END))
    assert (problem.path, problem.code) == ("$.nodes[0].transitions.delivered", "unknown_port")
    assert "sent, failed, error" in problem.message


def test_error_port_is_accepted_on_action_steps_only() -> None:
    assert validate_flow(flow(sms("a", sent="done", error="done"), END))[0].valid
    wait = node("w", "wait", {"minutes": 1}, next="done", error="done")
    assert errors_of(flow(wait, END)) == [("$.nodes[0].transitions.error", "unknown_port")]


def test_unreachable_node() -> None:
    raw = flow(sms("a", sent="done"), END, sms("orphan", sent="done"))
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.nodes[2]", "unreachable")


def test_reachability_follows_parallel_branches_and_loop_bodies() -> None:
    raw = flow(
        node("fan", "parallel", {"branches": ["left", "right"]}, next="each"),
        sms("left"),
        sms("right"),
        node("each", "loop", {"for_each": "{{ contact.tags }}"}, body="tag", done="done"),
        sms("tag"),
        END,
    )
    report, _ = validate_flow(raw)
    assert report.errors == []


def test_cycle_without_pause_is_rejected_at_a_node_in_it() -> None:
    raw = flow(
        node("bump", "set", {"assign": {"n": 1}}, next="check"),
        node(
            "check",
            "condition",
            {"when": {"var": "vars.n", "op": "lt", "value": 5}},
            true="bump",
            false="done",
        ),
        END,
    )
    problem = only_error(raw)
    assert (problem.path, problem.code) == ("$.nodes[0]", "unbounded_cycle")
    assert "bump → check → bump" in problem.message


def test_cycle_through_a_wait_is_fine() -> None:
    raw = flow(
        node("bump", "set", {"assign": {"n": 1}}, next="check"),
        node(
            "check",
            "condition",
            {"when": {"var": "vars.n", "op": "lt", "value": 5}},
            true="pause",
            false="done",
        ),
        node("pause", "wait", {"hours": 1}, next="bump"),
        END,
    )
    assert validate_flow(raw)[0].errors == []


def test_cycle_through_a_loop_body_is_bounded_but_through_done_is_not() -> None:
    body_back = flow(
        node("each", "loop", {"count": 3}, body="step", done="done"),
        node("step", "set", {"assign": {"n": 1}}, next="each"),
        END,
    )
    assert validate_flow(body_back)[0].errors == []

    done_back = flow(
        node("each", "loop", {"count": 3}, body="step", done="again"),
        node("step", "set", {"assign": {"n": 1}}),
        node("again", "set", {"assign": {"n": 2}}, next="each"),
    )
    problem = only_error(done_back)
    assert (problem.path, problem.code) == ("$.nodes[0]", "unbounded_cycle")


def test_self_loop_is_a_cycle() -> None:
    problem = only_error(flow(node("spin", "set", {"assign": {"n": 1}}, next="spin")))
    assert (problem.path, problem.code) == ("$.nodes[0]", "unbounded_cycle")


def test_template_that_does_not_parse_is_reported_at_its_string() -> None:
    wa = node(
        "wa",
        "whatsapp",
        {"template": "t", "params": {"1": "{{ contact.name }}", "2": "{{ contact.name "}},
        sent="done",
        failed="done",
    )
    problem = only_error(flow(wa, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.params.2", "template_syntax")


def test_template_inside_a_list_in_a_body() -> None:
    http = node(
        "h",
        "http",
        {"url": "https://x.example", "body": {"items": ["ok", "{% if %}"]}},
        success="done",
        error="done",
    )
    problem = only_error(flow(http, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.body.items[1]", "template_syntax")


def test_condition_values_are_literal_not_templates() -> None:
    when = {"var": "contact.name", "op": "eq", "value": "{{ not a template"}
    check = node("c", "condition", {"when": when}, true="done", false="done")
    assert validate_flow(flow(check, END))[0].errors == []


def test_split_case_ports_must_be_unique() -> None:
    case = {"port": "sales", "when": {"var": "call.digits", "op": "eq", "value": "1"}}
    split = node("route", "split", {"cases": [case, case]}, sales="done", **{"else": "done"})
    problem = only_error(flow(split, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.cases[1].port", "duplicate_port")


def test_split_case_cannot_be_named_else() -> None:
    case = {"port": "else", "when": {"var": "call.digits", "op": "eq", "value": "1"}}
    split = node("route", "split", {"cases": [case]}, **{"else": "done"})
    problem = only_error(flow(split, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.cases[0].port", "duplicate_port")


def test_ab_split_variant_ports_must_be_unique() -> None:
    variants = [{"port": "a", "weight": 1}, {"port": "a", "weight": 2}]
    ab = node("offer", "ab_split", {"variants": variants}, a="done")
    problem = only_error(flow(ab, END))
    assert (problem.path, problem.code) == (
        "$.nodes[0].config.variants[1].port",
        "duplicate_port",
    )


def test_parallel_branch_to_a_missing_node() -> None:
    fan = node("fan", "parallel", {"branches": ["left", "ghost"]}, next="done")
    problem = only_error(flow(fan, sms("left"), END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.branches[1]", "unknown_node")


def test_regex_that_does_not_compile() -> None:
    when = {"var": "steps.ask.reply", "op": "regex", "value": "(?i)angry|(refund"}
    check = node("mood", "condition", {"when": when}, true="done", false="done")
    problem = only_error(flow(check, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.when.value", "invalid_regex")


def test_regex_nested_in_a_split_case() -> None:
    bad = {"var": "call.speech", "op": "regex", "value": "*"}
    cases = [{"port": "x", "when": {"not": {"all": [bad]}}}]
    split = node("route", "split", {"cases": cases}, x="done")
    problem = only_error(flow(split, END))
    assert (problem.path, problem.code) == (
        "$.nodes[0].config.cases[0].when.not.all[0].value",
        "invalid_regex",
    )


def test_subflow_needs_a_flow_id() -> None:
    sub = node("child", "subflow", {"flow_id": "  "}, success="done", failed="done")
    problem = only_error(flow(sub, END))
    assert (problem.path, problem.code) == ("$.nodes[0].config.flow_id", "missing")


def test_voice_step_is_a_warning_not_an_error() -> None:
    raw = flow(node("hello", "say", {"text": "Hi"}, next="bye"), node("bye", "hangup"))
    report, document = validate_flow(raw)
    assert report.valid and document is not None
    assert [(w.path, w.code) for w in report.warnings] == [
        ("$.nodes[0]", "voice_without_call"),
        ("$.nodes[1]", "voice_without_call"),
    ]
    assert all(w.severity == "warning" for w in report.warnings)
    report, _ = validate_flow(raw, live_call=True)
    assert report.warnings == []


def test_action_without_failure_transition_is_a_warning() -> None:
    raw = flow(node("mail", "sms", {"body": "Hi"}, sent="done"), END)
    report, document = validate_flow(raw)
    assert report.valid and document is not None
    assert [(w.path, w.code) for w in report.warnings] == [
        ("$.nodes[0].transitions", "unhandled_failure")
    ]
    assert "a failure ends the execution as failed" in report.warnings[0].message

    for handled in (
        node("mail", "sms", {"body": "Hi"}, sent="done", failed="done"),
        node("mail", "sms", {"body": "Hi"}, sent="done", error="done"),
        node("mail", "sms", {"body": "Hi"}, sent="done") | {"continue_on_error": True},
    ):
        assert validate_flow(flow(handled, END))[0].warnings == []


def test_several_problems_are_all_reported() -> None:
    raw = flow(sms("a", sent="ghost", delivered="done"), END, dict(END), start="a")
    raw["nodes"].append({"id": "x", "type": "fax"})
    assert sorted(errors_of(raw)) == sorted(
        [
            ("$.nodes[3].type", "unknown_node_type"),
            ("$.nodes[2].id", "duplicate_id"),
            ("$.nodes[0].transitions.sent", "unknown_node"),
            ("$.nodes[0].transitions.delivered", "unknown_port"),
        ]
    )


def test_report_serializes_to_json() -> None:
    report, _ = validate_flow(flow(END, start="nope"))
    assert json.loads(report.model_dump_json()) == {
        "valid": False,
        "errors": [
            {
                "path": "$.start",
                "code": "unknown_node",
                "message": "start 'nope' is not the id of any node",
                "severity": "error",
            }
        ],
        "warnings": [],
    }


def test_json_schema_uses_the_author_keys() -> None:
    schema = flow_json_schema()
    assert set(schema["properties"]) == {"start", "variables", "nodes"}
    assert "from" in schema["$defs"]["AiCallConfig"]["properties"]
    assert "while" in schema["$defs"]["LoopConfig"]["properties"]
    json.dumps(schema)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_examples_validate_without_errors(path: Path) -> None:
    definition = json.loads(path.read_text())["definition"]
    report, document = validate_flow(copy.deepcopy(definition))
    assert report.errors == []
    assert document is not None
    assert len(document.nodes) == len(definition["nodes"])


@pytest.mark.parametrize(
    ("given", "sent"), [("dtmf", "dtmf"), ("speech", "speech"), ("both", "dtmf speech")]
)
def test_a_gather_takes_dtmf_speech_or_both(given: str, sent: str) -> None:
    raw = flow(node("g", "gather", {"prompt": "Say or press", "input": given}, input="done"), END)
    report, document = validate_flow(raw)
    assert report.valid and document is not None
    assert document.nodes[0].config.model_dump()["input"] == sent


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"input": "keys"}, "$.nodes[0].config.input"),
        ({"finish_on_key": "##"}, "$.nodes[0].config.finish_on_key"),
        ({"finish_on_key": "x"}, "$.nodes[0].config.finish_on_key"),
    ],
)
def test_a_gathers_input_and_finishing_key_are_checked_at_their_paths(
    config: dict[str, Any], path: str
) -> None:
    gather = node("g", "gather", {"prompt": "Press", **config}, input="done")
    problem = only_error(flow(gather, END))
    assert (problem.path, problem.code) == (path, "invalid_value")
