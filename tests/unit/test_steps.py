"""The step registry: every step type declared once, and every table that depends on it
derived from it, so a forgotten table is a failing test."""

from __future__ import annotations

import inspect
from typing import get_args

import pytest

from activities import HANDLERS
from activities.step import StepContext, handles
from schemas.execution import ActionOutput
from schemas.flow import ActionNodeBase, Node
from schemas.settings import Settings
from schemas.step import CATEGORIES
from schemas.steps import ACTIVITY_TYPES, STEP, STEPS, Step

NODE_MODELS = get_args(get_args(Node)[0])


def test_every_node_model_has_one_declaration_and_no_more() -> None:
    declared = [step.node for step in STEPS]
    assert sorted(m.__name__ for m in declared) == sorted(m.__name__ for m in NODE_MODELS)
    assert len(STEP) == len(STEPS)  # no type declared twice
    for step in STEPS:
        assert get_args(step.node.model_fields["type"].annotation) == (step.type,)


def test_a_step_type_is_declared_in_one_place_beside_its_config() -> None:
    """Its config model, then its `@step` node model, in `schemas.flow`: the one file a new
    step type's declaration touches (with its line in the `Node` union)."""
    for step in STEPS:
        assert step.node.__module__ == step.config.__module__ == "schemas.flow", step.type
        config_line = inspect.getsourcelines(step.config)[1]
        node_line = inspect.getsourcelines(step.node)[1]
        assert config_line < node_line, step.type


def test_the_catalogue_is_in_the_palette_order_then_as_declared() -> None:
    """`GET /api/steps` lists the steps by category, then as `schemas.flow` writes them."""
    keys = [
        (CATEGORIES.index(step.category), inspect.getsourcelines(step.node)[1]) for step in STEPS
    ]
    assert keys == sorted(keys)
    assert [step.type for step in STEPS][:3] == ["say", "gather", "transfer"]


def test_every_activity_step_has_a_handler_and_every_handler_a_step() -> None:
    """`HANDLERS` is what the handler modules registered when `activities` was imported."""
    assert set(HANDLERS) - ACTIVITY_TYPES == set(), "handlers of undeclared step types"
    assert ACTIVITY_TYPES - set(HANDLERS) == set(), "activity steps without a handler"


async def _handler(ctx: StepContext) -> ActionOutput:
    raise AssertionError("never called")


def test_a_handler_of_an_undeclared_type_or_a_second_handler_is_refused() -> None:
    with pytest.raises(ValueError, match="not declared"):
        handles("no_such_step")
    with pytest.raises(ValueError, match="not declared"):
        handles("subflow")  # an action, but not one `perform_action` does
    with pytest.raises(ValueError, match="already has a handler"):
        handles("sms")(_handler)
    assert HANDLERS["sms"] is not _handler


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.type)
def test_the_walker_runs_every_action_activity_as_an_action(step: Step) -> None:
    """The walker's one arm for `ActionNodeBase` runs `perform_action` on the node: exactly
    the steps declared an action and an activity (voice steps and subflows have their own)."""
    assert issubclass(step.node, ActionNodeBase) == (step.action and step.activity)


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.type)
def test_a_declaration_is_consistent(step: Step) -> None:
    ports = step.all_ports()
    for port in (step.success_port, step.failure_port):
        assert port is None or port in ports, port
    assert step.label and step.description.endswith(".")
    assert step.native_fields <= set(step.config.model_fields)
    if step.activity:
        assert step.action or step.voice  # an activity's failure has somewhere to go
    if step.local != "never":
        assert step.activity  # a local activity is still `perform_action`
    if step.local == "sandbox":
        assert step.provider is not None


def test_sends_run_as_local_activities_only_on_the_sandbox() -> None:
    sandbox = Settings.model_validate({})
    assert set(sandbox.local_action_types()) == {"sms", "whatsapp", "email", "tag"}
    real = Settings.model_validate({"FLOWDECK_PROVIDER_SMS": "twilio"})
    assert set(real.local_action_types()) == {"whatsapp", "email", "tag"}
