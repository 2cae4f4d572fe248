"""The orchestrator's domain: task states, what the API accepts and returns, and the records behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stratus.agents.specs import DEFAULT_MODEL, Role

TaskStatus = Literal["queued", "running", "paused", "awaiting_approval", "succeeded", "failed", "cancelled"]
TERMINAL: Final[frozenset[str]] = frozenset({"succeeded", "failed", "cancelled"})
ACTIVE: Final[frozenset[str]] = frozenset({"queued", "running"})
StepStatus = Literal["pending", "running", "succeeded", "failed", "cancelled", "skipped"]
Checkpoint = Literal["after_plan", "before_final"]
InterruptAction = Literal["pause", "resume", "approve", "reject", "cancel"]
AgentState = Literal["idle", "running", "done", "failed", "skipped"]
TASK_CANCELLED_ERROR: Final = "TaskCancelled"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Approvals(_Body):
    after_plan: bool = Field(default=False, description="wait for approval of the plan before any agent runs")
    before_final: bool = Field(default=False, description="wait for approval of the result before finishing")


class TaskOptions(_Body):
    approvals: Approvals = Field(default_factory=Approvals)
    max_steps: int | None = Field(default=None, description="agent steps the task may run (critique loop included)")
    token_budget: int | None = Field(default=None, description="model tokens (input + output) the task may spend")
    max_rounds: int | None = Field(default=None, ge=1, le=20, description="rounds a rejection may send the work back")


class TaskInputBody(_Body):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.()-]*$")
    content: str = Field(min_length=1)


class TaskCreate(_Body):
    goal: str = Field(min_length=1, max_length=8000, description="what the team should achieve")
    agents: list[str] | None = Field(default=None, description="agent names; default research, code_review, writing")
    inputs: list[TaskInputBody] = Field(default_factory=list, max_length=20, description="texts the task works from")
    options: TaskOptions = Field(default_factory=TaskOptions)

    @field_validator("goal")
    @classmethod
    def _goal_has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("goal must not be blank")
        return value.strip()


class InterruptRequest(_Body):
    action: InterruptAction
    feedback: str | None = Field(default=None, max_length=4000, description="required with reject")
    checkpoint: Checkpoint | None = Field(default=None, description="approve/reject only this checkpoint")


class AgentCreate(_Body):
    name: str = Field(min_length=2, max_length=40)
    role: Role
    instructions: str = Field(min_length=1, max_length=4000)
    model: str = DEFAULT_MODEL
    tools: list[str] = Field(default_factory=list, max_length=10)
    handoffs: list[str] = Field(default_factory=list, max_length=10)


class AgentView(BaseModel):
    name: str
    role: Role
    instructions: str
    model: str
    tools: list[str]
    handoffs: list[str]
    builtin: bool
    created_at: str | None = None


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    offline: bool = Field(default=False, description="true when an offline model produced any of the text")


class Waiting(BaseModel):
    kind: Literal["approval", "pause"]
    checkpoint: Checkpoint | None = None
    since: str


class StepOutput(BaseModel):
    step_id: str
    agent: str
    round: int
    stage: int
    status: StepStatus
    question: str
    summary: str = ""
    attempts: int = 0
    error: str | None = None


class TaskView(BaseModel):
    task_id: str
    goal: str
    agents: list[str]
    status: TaskStatus
    current_step: str | None
    round: int
    steps_used: int
    options: dict[str, Any]
    waiting: Waiting | None
    pause_requested: bool
    plan: dict[str, Any]
    outputs: list[StepOutput]
    result: dict[str, Any] | None
    usage: Usage
    failure: str | None
    execution_arn: str | None
    created_at: str
    updated_at: str
    finished_at: str | None
    last_event_seq: int
    links: dict[str, str]


class TaskSummary(BaseModel):
    task_id: str
    goal: str
    status: TaskStatus
    created_at: str
    finished_at: str | None


class TaskAgentView(BaseModel):
    name: str
    role: Role
    builtin: bool
    model: str
    state: AgentState
    steps: int
    last_output: str | None
    usage: Usage


class EventView(BaseModel):
    seq: int
    type: str
    at: str
    parent: int | None
    agent: str | None
    step_id: str | None
    data: dict[str, Any]


class EventPage(BaseModel):
    task_id: str
    status: TaskStatus
    items: list[EventView]
    next_after: int = Field(description="pass as ?after= to read on")
    last_seq: int = Field(description="the highest sequence number published so far")


@dataclass
class PlannedStep:
    step_id: str
    agent: str
    role: Role
    question: str
    round: int
    stage: int
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Stage:
    """Steps that run in parallel; stages run one after another, with a step boundary between them."""

    number: int
    round: int
    steps: list[str]
    state: Literal["pending", "running", "done", "dropped"] = "pending"
    kind: Literal["work", "revision", "critique", "handoff"] = "work"
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "round": self.round,
            "steps": self.steps,
            "state": self.state,
            "kind": self.kind,
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stage:
        return cls(
            int(data["number"]),
            int(data["round"]),
            list(data["steps"]),
            data["state"],
            data.get("kind", "work"),
            data.get("seq"),
        )


@dataclass
class Plan:
    stages: list[Stage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    round_seqs: dict[str, int] = field(default_factory=dict)
    critiqued_rounds: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stages": [stage.as_dict() for stage in self.stages],
            "notes": self.notes,
            "round_seqs": self.round_seqs,
            "critiqued_rounds": self.critiqued_rounds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Plan:
        data = data or {}
        return cls(
            [Stage.from_dict(s) for s in data.get("stages", [])],
            list(data.get("notes", [])),
            dict(data.get("round_seqs", {})),
            list(data.get("critiqued_rounds", [])),
        )

    def next_stage_number(self) -> int:
        return max((stage.number for stage in self.stages), default=0) + 1

    def planned_steps(self) -> int:
        return sum(len(stage.steps) for stage in self.stages if stage.state != "dropped")

    def stage_of(self, step_id: str) -> Stage | None:
        return next((stage for stage in self.stages if step_id in stage.steps), None)


@dataclass
class TaskRecord:
    tenant_id: str
    task_id: str
    goal: str
    team: list[str]
    options: dict[str, Any]
    status: TaskStatus
    current_step: str | None
    round: int
    steps_used: int
    plan: Plan
    result: dict[str, Any] | None
    failure: str | None
    usage: Usage
    execution_arn: str | None
    created_at: float
    updated_at: float
    finished_at: float | None
    created_by: str
    pause_requested: bool
    cancel_requested: bool
    waiting: dict[str, Any] | None
    decisions: list[dict[str, Any]]
    handoffs: int

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def max_steps(self) -> int:
        return int(self.options["max_steps"])

    @property
    def token_budget(self) -> int:
        return int(self.options["token_budget"])

    @property
    def max_rounds(self) -> int:
        return int(self.options["max_rounds"])

    def approval(self, checkpoint: str) -> bool:
        return bool(self.options.get("approvals", {}).get(checkpoint))

    def feedback(self) -> list[str]:
        """Feedback of every rejection, oldest first."""
        return [d["feedback"] for d in self.decisions if d.get("decision") == "rejected" and d.get("feedback")]

    def state(self) -> dict[str, Any]:
        """What a 409 shows as the current state."""
        return {
            "status": self.status,
            "waiting": self.waiting,
            "pause_requested": self.pause_requested,
            "current_step": self.current_step,
            "round": self.round,
        }


@dataclass
class StepRecord:
    tenant_id: str
    task_id: str
    step_id: str
    agent: str
    role: Role
    round: int
    stage: int
    question: str
    status: StepStatus
    attempts: int
    output_text: str
    output_data: dict[str, Any]
    usage: Usage
    turns: int
    tool_calls: int
    error: str | None
    started_seq: int | None
    handoff: dict[str, Any] | None
    started_at: float | None
    finished_at: float | None
    context: dict[str, Any] = field(default_factory=dict)
