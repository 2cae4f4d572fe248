"""The orchestrator's domain: task states, usage, plans and the task and step records behind the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from stratus.agents.specs import Role

TaskStatus = Literal["queued", "running", "paused", "awaiting_approval", "succeeded", "failed", "cancelled"]
TERMINAL: Final[frozenset[str]] = frozenset({"succeeded", "failed", "cancelled"})
ACTIVE: Final[frozenset[str]] = frozenset({"queued", "running"})
StepStatus = Literal["pending", "running", "succeeded", "failed", "cancelled", "skipped"]
Checkpoint = Literal["after_plan", "before_final"]
InterruptAction = Literal["pause", "resume", "approve", "reject", "cancel"]
AgentState = Literal["idle", "running", "done", "failed", "skipped"]
TASK_CANCELLED_ERROR: Final = "TaskCancelled"


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    offline: bool = Field(default=False, description="true when an offline model produced any of the text")


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
    created_by_key: str | None = None  # the API key that created it (None: a signed-in session); usage is billed to it

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
