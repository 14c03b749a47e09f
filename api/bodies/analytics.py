"""Bodies of the analytics reports: what the dashboard's charts and the canvas's funnel draw."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Rates(BaseModel):
    """Each terminal outcome's share of the runs (0 to 1, four decimals; 0 when no runs)."""

    completed: float
    failed: float
    skipped: float
    cancelled: float


class StatusTotals(BaseModel):
    runs: int
    by_status: dict[str, int] = Field(description="runs per status, only statuses that occur")
    rates: Rates


class Day(StatusTotals):
    day: str = Field(description="a UTC day, `YYYY-MM-DD`; days without runs are left out")


class FlowTotals(StatusTotals):
    flow_id: str
    name: str


class Window(BaseModel):
    since: datetime
    until: datetime
    include_test: bool


class AiUsage(BaseModel):
    """What the AI steps (`ai_generate`, `ai_classify`) that succeeded used."""

    steps: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    priced_steps: int = Field(description="steps whose connection has prices (in `cost`)")
    cost: float = Field(description="at the connections' prices, in FLOWDECK_PRICE_CURRENCY")


class FlowAiUsage(AiUsage):
    flow_id: str


class NodeAiUsage(AiUsage):
    node_id: str


class Overview(Window, StatusTotals):
    per_day: list[Day]
    flows: list[FlowTotals] = Field(description="flows with runs in the window, most runs first")
    ai_usage: list[FlowAiUsage] = Field(
        default_factory=list, description="AI tokens and cost per flow with AI steps"
    )
    currency: str = Field(description="the currency of `ai_usage` costs (FLOWDECK_PRICE_CURRENCY)")


class NodeReached(BaseModel):
    node_id: str
    executions: int = Field(description="executions that reached the node at least once")


class EdgeTaken(BaseModel):
    node_id: str
    port: str
    executions: int = Field(description="executions that left the node by this port at least once")


class Variant(BaseModel):
    variant: str
    executions: int
    completed: int
    completion_rate: float


class AbResult(BaseModel):
    node_id: str
    variants: list[Variant]


class CallOutcome(BaseModel):
    node_id: str
    ports: dict[str, int] = Field(description="finished `ai_call` steps per port")


class StepTime(BaseModel):
    node_id: str
    steps: int
    mean_ms: float


class VersionRuns(BaseModel):
    version: int
    runs: int


class FlowReport(Window, StatusTotals):
    flow_id: str
    name: str
    version: int | None = Field(
        description="the version whose runs are counted; null: the runs of every version"
    )
    versions: list[VersionRuns] = Field(
        description="the window's runs per pinned version (every version), newest first"
    )
    per_day: list[Day]
    funnel: list[NodeReached]
    edges: list[EdgeTaken]
    ab_results: list[AbResult]
    call_outcomes: list[CallOutcome]
    step_times: list[StepTime]
    ai_usage: list[NodeAiUsage] = Field(
        default_factory=list, description="AI tokens and cost per AI step of the flow"
    )
    currency: str = Field(description="the currency of `ai_usage` costs (FLOWDECK_PRICE_CURRENCY)")
