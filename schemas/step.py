"""How a step type is declared: `@step(...)` on its node model, in `schemas.flow`.

A step type is one place in `schemas.flow`: its config model, then its node model under
`@step(...)`, which says how the palette shows it and how the engine treats it. The
decorator collects the declarations in the order they are written; `schemas.steps` orders
them into the catalogue and derives every table from them (the interpreter, validation, the
dry run, the worker's local activities, the cost estimate and `GET /api/steps` read those).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol, TypeVar, get_args, runtime_checkable

from pydantic import BaseModel

Category = Literal["trigger", "voice", "messaging", "data", "logic", "people"]
"""Where the palette groups a step, in the palette's order. `trigger` is for steps that start
a flow: none yet (a flow's trigger is a setting of the flow, SPEC §4)."""

CATEGORIES: tuple[Category, ...] = get_args(Category)

Provider = Literal["sms", "whatsapp", "email", "voice"]
"""A channel whose provider is configured (`FLOWDECK_PROVIDER_<CHANNEL>`)."""

Cost = Literal["sms", "whatsapp", "email", "call", "message"]
"""What the dry run's estimate charges for a step: one message of a channel, a connected
call's minute, or (`message`) one message of the channel the step's config names."""


@runtime_checkable
class PortsFromConfig(Protocol):
    """A node whose outcome ports its config names (a `split`'s cases, an `ab_split`'s
    variants) rather than its declaration."""

    def outcome_ports(self) -> tuple[str, ...]: ...


NodeModel = TypeVar("NodeModel", bound=BaseModel)

DECLARED: list[Step] = []
"""Every declared step type, in the order `schemas.flow` declares them."""


@dataclass(frozen=True, kw_only=True)
class StepTraits:
    """What a step type's declaration says besides its type and node model; used as the
    decorator `@step(...)` of the node model."""

    category: Category
    label: str
    description: str
    ports: tuple[str, ...] = ()
    """Its fixed outcome ports (a `split`'s and an `ab_split`'s come from its config)."""
    success_port: str | None = None
    """Where `continue_on_error` sends it when it fails with no failure transition."""
    failure_port: str | None = None
    """Its own port for a failure, taken when it has a transition and `error` has none."""
    action: bool = False
    """It has a side effect: it accepts `error`, `retry`, `timeout_s` and `continue_on_error`."""
    activity: bool = False
    """The worker's `perform_action` activity does it (one handler in `activities`)."""
    error_port: bool = False
    """It accepts an `error` transition without being an action (its activity can fail)."""
    voice: bool = False
    """It needs a live call."""
    reaches_contact: bool = False
    """It reaches a person: a Do-Not-Call tag stops it when it is addressed to the contact."""
    pauses: bool = False
    """It waits for time or for someone: a cycle through it is not a busy loop."""
    takes_time: bool = False
    """It is not done at once: on a live call, what the flow said before it is heard first."""
    awaits: bool = True
    """It awaits something (an activity, a timer, a person); `False`: it is decided in the
    workflow at once, and a stretch of such steps is bounded (`schemas.limits`)."""
    local: Literal["always", "sandbox", "short", "never"] = "never"
    """It may run as a local activity: always, or while its channel's provider is `sandbox`,
    or (`short`, and `sandbox` ones on a real provider) when one attempt's timeout is within
    `FLOWDECK_LOCAL_ACTIVITY_MAX_S`."""
    provider: Provider | None = None
    """The channel whose provider it uses."""
    native_fields: frozenset[str] = frozenset()
    """Config keys whose `{{ expr }}` keeps its native type (a JSON body); others are text."""
    cost: Cost | None = None
    integration: str | None = None
    """The integration (`schemas.connections.Integration`) whose connection, named by its
    config's `connection`, it calls; the dry run shows the call instead of making it."""
    saves: str | None = None
    """The key of its result that its config's `save_as` stores in `vars`."""

    def __call__(self, node: builtins.type[NodeModel]) -> builtins.type[NodeModel]:
        """Declare `node` (a model whose `type` is one `Literal`) as this step type."""
        (step_type,) = get_args(node.model_fields["type"].annotation)
        traits = {f.name: getattr(self, f.name) for f in fields(StepTraits)}
        DECLARED.append(Step(type=step_type, node=node, **traits))
        return node


step = StepTraits
"""`@step(category=..., label=..., ...)` on a node model declares its step type."""


@dataclass(frozen=True, kw_only=True)
class Step(StepTraits):
    """One declared step type."""

    type: str
    node: builtins.type[BaseModel]

    @property
    def config(self) -> builtins.type[BaseModel]:
        annotation = self.node.model_fields["config"].annotation
        assert isinstance(annotation, builtins.type) and issubclass(annotation, BaseModel)
        return annotation

    @property
    def accepts_error(self) -> bool:
        return self.action or self.error_port

    @property
    def dynamic_ports(self) -> bool:
        return issubclass(self.node, PortsFromConfig)

    def all_ports(self, node: BaseModel | None = None) -> tuple[str, ...]:
        """The ports a node of this type may have transitions for."""
        if isinstance(node, PortsFromConfig):
            return node.outcome_ports()
        if self.accepts_error and "error" not in self.ports:
            return (*self.ports, "error")
        return self.ports

    def catalogue_entry(self) -> dict[str, Any]:
        """What `GET /api/steps` shows of it: the palette's entry and its config's schema."""
        return {
            "type": self.type,
            "category": self.category,
            "label": self.label,
            "description": self.description,
            "ports": list(self.all_ports()),
            "dynamic_ports": self.dynamic_ports,
            "action": self.action,
            "voice": self.voice,
            "pauses": self.pauses,
            "config_schema": self.config.model_json_schema(),
        }
