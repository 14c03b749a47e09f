"""What travels between the API, the interpreter workflow and its activities.

Every activity takes one input model, so fields can be added without breaking running
workflows. Timestamps inside records come from `workflow.now()`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from schemas.call import CallInfo, OutboundCall, TurnAnswer
from schemas.flow import FlowDocument
from schemas.hours import BusinessHours

WORKFLOW_NAME = "FlowExecution"
TASK_QUEUE = "flowdeck"

# Names the API and the workflow agree on.
SIGNAL_CANCEL = "cancel"
SIGNAL_EVENT = "event"
SIGNAL_CALL_STATUS = "call_status"
SIGNAL_MESSAGE_REPLY = "message_reply"
SIGNAL_CONTACT_UPDATED = "contact_updated"
UPDATE_COMPLETE_HUMAN_TASK = "complete_human_task"
QUERY_STATE = "state"

ACTIVITY_PERFORM_ACTION = "perform_action"
ACTIVITY_RECORD_PROGRESS = "record_progress"
ACTIVITY_PREPARE_SUBFLOW = "prepare_subflow"


def workflow_id_for(execution_id: str) -> str:
    return f"exec-{execution_id}"


class ExecutionStatus(StrEnum):
    pending = "pending"
    running = "running"
    waiting = "waiting"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    skipped = "skipped"


TERMINAL_STATUSES = frozenset(
    {
        ExecutionStatus.completed,
        ExecutionStatus.failed,
        ExecutionStatus.cancelled,
        ExecutionStatus.skipped,
    }
)


class StepStatus(StrEnum):
    running = "running"
    waiting = "waiting"
    success = "success"
    failed = "failed"
    skipped = "skipped"


class StepRecord(BaseModel):
    """One step of the timeline, as the interpreter saw it. `seq` orders and identifies it."""

    seq: int
    node_id: str
    node_type: str
    status: StepStatus
    started_at: datetime
    ended_at: datetime | None = None
    port: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    skip_reason: str | None = None
    attempt: int = 1


class ResumeState(BaseModel):
    """The interpreter's state handed over through continue-as-new."""

    node_id: str
    vars: dict[str, Any]
    steps: dict[str, Any]
    seq: int
    loop_index: dict[str, int] = Field(default_factory=dict)
    events: list[ReceivedEvent] = Field(default_factory=list)
    runs: int = 1
    visits: dict[str, int] = Field(default_factory=dict)
    """How many times each node was reached (an `ab_split`'s pick and a request's idempotency
    key depend on it)."""


class ReceivedEvent(BaseModel):
    name: str
    data: dict[str, Any] = Field(default_factory=dict)
    received_at: datetime
    consumed: bool = False


class ExecutionInput(BaseModel):
    """The workflow's input: the pinned definition travels with it."""

    execution_id: str
    tenant_id: str
    flow_id: str
    flow_name: str = ""
    version: int
    definition: FlowDocument
    contact: dict[str, Any] = Field(default_factory=dict)
    trigger: dict[str, Any] = Field(default_factory=dict)
    variables: dict[str, Any] = Field(default_factory=dict)
    test: bool = False
    business_hours: BusinessHours | None = None
    parent_execution_id: str | None = None
    history_limit: int = 8000
    """Continue-as-new at a loop boundary once the history has this many events."""
    contact_id: str | None = None
    campaign_id: str | None = None
    respect_business_hours: bool = False
    """Wait for `business_hours` to open before the first step (lead engagement)."""
    local_steps: list[str] = Field(default_factory=list)
    """Action step types this execution runs as local activities (Settings.local_action_types)."""
    short_local_steps: list[str] = Field(default_factory=list)
    """Action step types run as local activities when one attempt's timeout is at most
    `local_max_s` (Settings.short_local_action_types); none in older executions."""
    local_max_s: float = 0.0
    call: CallInfo | None = None
    """The live call an inbound call's execution answers (SPEC §4 `call_incoming`)."""
    fallback_on_failure: bool = False
    """The call's deployment has a fallback flow: a failure mid-call hands the call to it."""
    dial: OutboundCall | None = None
    """A call to place before the first step; the flow runs on it once answered."""
    call_time_limit_s: float = 15000.0
    """A live call with no final status this long after it began is taken as over
    (Settings.call_time_limit_s)."""
    resume: ResumeState | None = None


class Launch(BaseModel):
    """How an execution's workflow starts, beyond what its row says. Written with the row and
    kept until the workflow has written progress, so a start lost to a crash between the
    commit and Temporal's answer can be made again, with the same input, by the start sweeper.
    """

    respect_business_hours: bool = False
    """Lead engagement: wait for the flow's business hours before the first step."""
    dial: OutboundCall | None = None
    """The call a run places before its first step."""
    call: CallInfo | None = None
    """The inbound call the execution answers (its ring starts the workflow, never a sweep)."""
    fallback_on_failure: bool = False
    """The call's deployment has a fallback flow: a failure mid-call hands the call to it."""


class ExecutionResult(BaseModel):
    status: ExecutionStatus
    reason: str | None = None
    vars: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, Any] = Field(default_factory=dict)


class CancelRequest(BaseModel):
    reason: str = "cancelled"
    by: str | None = None


class EventSignal(BaseModel):
    name: str
    data: dict[str, Any] = Field(default_factory=dict)


class CallStatusSignal(BaseModel):
    """A call's progress from Twilio's status callback (or the sandbox's simulation)."""

    call_sid: str
    status: str
    """Twilio's CallStatus: queued, ringing, in-progress, completed, busy, no-answer, failed,
    canceled."""
    answered_by: str | None = None
    """Twilio's AnsweredBy with machine detection: human, machine_start, fax, unknown…"""
    duration_s: int | None = None


class MessageReplySignal(BaseModel):
    """A contact's reply to a `send_and_wait` message."""

    channel: str
    from_: str = Field(alias="from")
    body: str
    message_sid: str | None = None

    model_config = {"populate_by_name": True}


class ContactUpdate(BaseModel):
    """The contact as it is now (tags included), sent to its running executions."""

    contact: dict[str, Any]


class HumanTaskCompletion(BaseModel):
    node_id: str
    data: dict[str, Any] = Field(default_factory=dict)
    completed_by: str | None = None


class HumanTaskAnswer(BaseModel):
    accepted: bool
    node_id: str


# --- activity inputs ---------------------------------------------------------------------


class StepEnding(BaseModel):
    """The execution's end, for the step's activity to write with the step itself when the
    step leaves by one of `ports`, each leading straight to an `end` node (completed): the
    workflow's final write folded into the step's, so a run whose last step is an action
    costs one activity, one workflow activation and one transaction fewer. Set by the
    workflow (`ActionSteps`) for a step at the top of the walk, off a call; the activity
    writes nothing more when the step fails, waits, leaves by another port, or would break
    the execution's data budget (`room`): the workflow then writes the end as usual."""

    ports: dict[str, str]
    """A port, and the id of the end node it leads to (its record is step `seq + 1`)."""
    reasons: dict[str, str] = Field(default_factory=dict)
    """The end nodes' reasons, by node id, for those that give one."""
    context: dict[str, Any]
    """`vars` and `steps` before the step, as the execution's row keeps them."""
    room: int
    """Bytes of JSON the step's result (and the variable it saves) may take: what the
    execution's data budget leaves once the values they replace are gone."""
    save_as: str | None = None
    """The variable the step's `save_as` sets, from its result's key `saves`."""
    saves: str | None = None


class ActionInput(BaseModel):
    """Perform one action step. Pending timeline records ride along, so recording costs no trip."""

    execution_id: str
    tenant_id: str
    flow_id: str
    seq: int
    node_id: str
    node_type: str
    config: dict[str, Any]
    """The step's config with every template already rendered."""
    contact: dict[str, Any] = Field(default_factory=dict)
    test: bool = False
    started_at: datetime
    records: list[StepRecord] = Field(default_factory=list)
    context: dict[str, Any] | None = None
    """The template context (vars, steps, trigger, execution) for a step that renders a
    stored template in the activity; None otherwise."""

    visit: int = 1
    """How many times the execution has reached this node, this time included."""
    recheck: bool = False
    """As a local activity: this workflow task may be running the step again after a task
    that ran it was lost (its worker stopped, or the task failed or timed out), so the
    activity looks for the step's stored outcome before performing it. Set by the workflow
    (`ActionSteps`). (A regular activity's outcome is Temporal's as soon as it completes.)"""
    ending: StepEnding | None = None

    @property
    def idempotency_key(self) -> str:
        return f"{self.execution_id}:{self.seq}"

    @property
    def request_key(self) -> str:
        """What an HTTP or CRM step sends as its `Idempotency-Key`: the same for every attempt
        of one visit of the step (a retry, a replay after a crash), new for the next visit."""
        return f"{self.execution_id}:{self.node_id}:{self.visit}"


class ActionOutput(BaseModel):
    port: str
    result: dict[str, Any] = Field(default_factory=dict)
    waiting: bool = False
    """The step has started something whose outcome arrives later by signal: a call placed
    (`result.call_sid`) or a message awaiting its reply. `port` is then meaningless; the
    step is recorded as waiting and the workflow finishes it."""
    recorded: bool = True
    """False: the activity wrote nothing; the records it was given, and the step's own (done
    at `ended_at`, on `attempt`), go with the workflow's next write. Activities no longer
    answer so (a step's outcome is stored before its local activity returns, for a restarted
    worker to find); histories recorded while quick local steps did still replay."""
    ended_at: datetime | None = None
    attempt: int = 1
    ended: bool = False
    """The activity also wrote the execution's end (`ActionInput.ending`): completed, the
    end node's record, the final `vars` and `steps`."""


class RecordInput(BaseModel):
    """Write timeline records and, optionally, a new execution status."""

    execution_id: str
    tenant_id: str
    flow_id: str
    records: list[StepRecord] = Field(default_factory=list)
    status: ExecutionStatus | None = None
    reason: str | None = None
    context: dict[str, Any] | None = None
    at: datetime


class CallAnswer(BaseModel):
    """The `call_turn` Update's result: the TwiML-to-be and the steps walked to reach it.

    The API writes `progress` after answering Twilio, so recording a turn costs the call no
    round trip; the workflow writes the same records again (idempotently) at its end, in case
    an answer never reached the API.
    """

    answer: TurnAnswer
    progress: RecordInput | None = None


class SubflowStartInput(BaseModel):
    """Resolve a child flow and create its execution row; the workflow then starts the child."""

    parent_execution_id: str
    tenant_id: str
    flow_id: str
    version: int | None = None
    node_id: str
    contact: dict[str, Any] = Field(default_factory=dict)
    variables: dict[str, Any] = Field(default_factory=dict)
    test: bool = False


class SubflowStart(BaseModel):
    execution_id: str
    workflow_id: str
    input: ExecutionInput


ResumeState.model_rebuild()
