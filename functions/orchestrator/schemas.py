"""What the orchestrator API accepts (``…Request`` bodies and their parts) and returns (``…View``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.domain import AgentState, Checkpoint, InterruptAction, StepStatus, TaskStatus, Usage
from stratus.agents.specs import DEFAULT_MODEL, Role


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


class CreateTaskRequest(_Body):
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


class RegisterAgentRequest(_Body):
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


class WaitingView(BaseModel):
    kind: Literal["approval", "pause"]
    checkpoint: Checkpoint | None = None
    since: str


class StepOutputView(BaseModel):
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
    waiting: WaitingView | None
    pause_requested: bool
    plan: dict[str, Any]
    outputs: list[StepOutputView]
    result: dict[str, Any] | None
    usage: Usage
    failure: str | None
    execution_arn: str | None
    created_at: str
    updated_at: str
    finished_at: str | None
    last_event_seq: int
    links: dict[str, str]


class TaskSummaryView(BaseModel):
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


class EventPageView(BaseModel):
    task_id: str
    status: TaskStatus
    items: list[EventView]
    next_after: int = Field(description="pass as ?after= to read on")
    last_seq: int = Field(description="the highest sequence number published so far")
