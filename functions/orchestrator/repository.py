"""Tasks, their steps and agents, and the tenant's agent registry, in one tenant-led DynamoDB table.

Items (``pk`` / ``sk``):
- task:           ``<tenant>#TASK``               / ``<task id>``     (status, plan, usage, flags)
- task data:      ``<tenant>#TASK#<task id>``     / ``DATA``          (inputs, the team's agent specs)
- step:           ``<tenant>#TASK#<task id>``     / ``STEP#<step id>`` (question, output, usage, attempts)
- agent on task:  ``<tenant>#TASK#<task id>``     / ``AGENT#<name>``  (state, steps, last output, usage)
- registry:       ``<tenant>#AGENT``              / ``<name>``        (a tenant-registered agent)
- events, tokens: ``<tenant>#RUN#<task id>``      (stratus.flows)

Writes that move a task between states are conditional on the state they expect, so the API, the flow
and parallel steps never overwrite each other; counters (usage, steps) are atomic ADDs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from orchestrator.domain import Plan, PlannedStep, StepRecord, TaskRecord, Usage
from orchestrator.settings import OrchestratorSettings
from stratus.agents import AgentSpec
from stratus.errors import Conflict, NotFound
from stratus.storage import TenantModel, bind_model, tenant_key

_CONDITION_FAILED = "ConditionalCheckFailedException"
_STEP_STATE_ATTRIBUTES = [
    "pk",
    "sk",
    "agent",
    "role",
    "round",
    "stage",
    "question",
    "status",
    "attempts",
    "error",
    "started_seq",
    "handoff",
    "started_at",
    "finished_at",
    "context",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "model_calls",
    "offline",
    "turns",
    "tool_calls",
]


class TaskItem(TenantModel):
    goal = UnicodeAttribute()
    team = ListAttribute(of=UnicodeAttribute)
    options = JSONAttribute()
    status = UnicodeAttribute()
    current_step = UnicodeAttribute(null=True)
    round = NumberAttribute(default=1)
    steps_used = NumberAttribute(default=0)
    plan = JSONAttribute(null=True)
    result = JSONAttribute(null=True)
    failure = UnicodeAttribute(null=True)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    model_calls = NumberAttribute(default=0)
    offline = BooleanAttribute(default=False)
    execution_arn = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    finished_at = NumberAttribute(null=True)
    created_by = UnicodeAttribute()
    created_by_key = UnicodeAttribute(null=True)
    pause_requested = BooleanAttribute(default=False)
    cancel_requested = BooleanAttribute(default=False)
    waiting = JSONAttribute(null=True)
    decisions = JSONAttribute(null=True)
    handoffs = NumberAttribute(default=0)


class TaskDataItem(TenantModel):
    inputs = JSONAttribute()
    specs = JSONAttribute()


class StepItem(TenantModel):
    agent = UnicodeAttribute()
    role = UnicodeAttribute()
    round = NumberAttribute()
    stage = NumberAttribute()
    question = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    output_text = UnicodeAttribute(null=True)
    output_data = JSONAttribute(null=True)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    model_calls = NumberAttribute(default=0)
    offline = BooleanAttribute(default=False)
    turns = NumberAttribute(default=0)
    tool_calls = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    started_seq = NumberAttribute(null=True)
    handoff = JSONAttribute(null=True)
    started_at = NumberAttribute(null=True)
    finished_at = NumberAttribute(null=True)
    context = JSONAttribute(null=True)


class TaskAgentItem(TenantModel):
    state = UnicodeAttribute()
    steps = NumberAttribute(default=0)
    last_output = UnicodeAttribute(null=True)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    model_calls = NumberAttribute(default=0)
    offline = BooleanAttribute(default=False)
    updated_at = NumberAttribute()


class AgentSpecItem(TenantModel):
    role = UnicodeAttribute()
    instructions = UnicodeAttribute()
    model = UnicodeAttribute()
    tools = ListAttribute(of=UnicodeAttribute, default=list)
    handoffs = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()


def _usage(item: TaskItem | StepItem | TaskAgentItem) -> Usage:
    return Usage(
        input_tokens=int(item.input_tokens or 0),
        output_tokens=int(item.output_tokens or 0),
        cost_usd=round(float(item.cost_usd or 0), 6),
        model_calls=int(item.model_calls or 0),
        offline=bool(item.offline),
    )


def _task(item: TaskItem) -> TaskRecord:
    return TaskRecord(
        tenant_id=item.tenant_id,
        task_id=item.sk,
        goal=item.goal,
        team=[str(name) for name in item.team],
        options=dict(item.options),
        status=item.status,  # type: ignore[arg-type]
        current_step=item.current_step,
        round=int(item.round or 1),
        steps_used=int(item.steps_used or 0),
        plan=Plan.from_dict(item.plan),
        result=item.result,
        failure=item.failure,
        usage=_usage(item),
        execution_arn=item.execution_arn,
        created_at=float(item.created_at),
        updated_at=float(item.updated_at),
        finished_at=None if item.finished_at is None else float(item.finished_at),
        created_by=item.created_by,
        pause_requested=bool(item.pause_requested),
        cancel_requested=bool(item.cancel_requested),
        waiting=item.waiting,
        decisions=list(item.decisions or []),
        handoffs=int(item.handoffs or 0),
        created_by_key=item.created_by_key,
    )


def _step(item: StepItem, tenant_id: str, task_id: str) -> StepRecord:
    return StepRecord(
        tenant_id=tenant_id,
        task_id=task_id,
        step_id=item.sk.removeprefix("STEP#"),
        agent=item.agent,
        role=item.role,  # type: ignore[arg-type]
        round=int(item.round),
        stage=int(item.stage),
        question=item.question,
        status=item.status,  # type: ignore[arg-type]
        attempts=int(item.attempts or 0),
        output_text=item.output_text or "",
        output_data=dict(item.output_data or {}),
        usage=_usage(item),
        turns=int(item.turns or 0),
        tool_calls=int(item.tool_calls or 0),
        error=item.error,
        started_seq=None if item.started_seq is None else int(item.started_seq),
        handoff=item.handoff,
        started_at=None if item.started_at is None else float(item.started_at),
        finished_at=None if item.finished_at is None else float(item.finished_at),
        context=dict(item.context or {}),
    )


def spec_of(item: AgentSpecItem) -> AgentSpec:
    return AgentSpec(
        name=item.sk,
        role=item.role,  # type: ignore[arg-type]
        instructions=item.instructions,
        model=item.model,
        tools=tuple(str(tool) for tool in item.tools or ()),
        handoffs=tuple(str(agent) for agent in item.handoffs or ()),
    )


class OrchestratorRepository:
    def __init__(self, settings: OrchestratorSettings) -> None:
        self._settings = settings
        table = settings.orchestrator_table
        for model in (TaskItem, TaskDataItem, StepItem, TaskAgentItem, AgentSpecItem):
            bind_model(model, table)

    @staticmethod
    def _task_pk(tenant_id: str) -> str:
        return tenant_key(tenant_id, "TASK")

    @staticmethod
    def _inner_pk(tenant_id: str, task_id: str) -> str:
        return tenant_key(tenant_id, "TASK", task_id)

    def create_task(
        self,
        tenant_id: str,
        task_id: str,
        *,
        goal: str,
        team: Sequence[str],
        options: dict[str, Any],
        inputs: list[dict[str, str]],
        specs: Sequence[AgentSpec],
        created_by: str,
        created_by_key: str | None = None,
    ) -> TaskRecord:
        now = time.time()
        task = TaskItem(
            self._task_pk(tenant_id),
            task_id,
            goal=goal,
            team=list(team),
            options=options,
            status="queued",
            round=1,
            plan=Plan().as_dict(),
            created_at=now,
            updated_at=now,
            created_by=created_by,
            created_by_key=created_by_key,
            decisions=[],
        )
        data = TaskDataItem(
            self._inner_pk(tenant_id, task_id),
            "DATA",
            inputs=inputs,
            specs=[spec.model_dump(mode="json") for spec in specs],
        )
        agents = [
            TaskAgentItem(self._inner_pk(tenant_id, task_id), f"AGENT#{name}", state="idle", updated_at=now)
            for name in team
        ]
        # The task item goes last: until it exists the task is invisible, and a failure removes the rest.
        written: list[TenantModel] = []
        try:
            for item in (data, *agents, task):
                item.save(condition=type(item).pk.does_not_exist())
                written.append(item)
        except Exception:
            for item in written:
                item.delete()
            raise
        return _task(task)

    def find_task(self, tenant_id: str, task_id: str) -> TaskRecord | None:
        try:
            return _task(TaskItem.get(self._task_pk(tenant_id), task_id, consistent_read=True))
        except TaskItem.DoesNotExist:
            return None

    def get_task(self, tenant_id: str, task_id: str) -> TaskRecord:
        task = self.find_task(tenant_id, task_id)
        if task is None:
            raise NotFound(f"task {task_id} not found")
        return task

    def list_tasks(
        self, tenant_id: str, limit: int, start_after: str | None = None
    ) -> tuple[list[TaskRecord], str | None]:
        """Newest first; the second value is where the next page starts (None on the last page)."""
        pk = self._task_pk(tenant_id)
        condition = TaskItem.sk < start_after if start_after else None
        items = list(TaskItem.query(pk, condition, scan_index_forward=False, limit=limit + 1))
        records = [_task(item) for item in items[:limit]]
        return records, records[-1].task_id if len(items) > limit else None

    def update_task(
        self,
        tenant_id: str,
        task_id: str,
        changes: dict[str, Any],
        *,
        status_in: Iterable[str] | None = None,
        status_not_in: Iterable[str] | None = None,
        pause_requested: bool | None = None,
        cancel_requested: bool | None = None,
    ) -> TaskRecord | None:
        """Apply ``changes`` (None removes) if the task is in the expected state; None when it is not."""
        condition: Condition = TaskItem.pk.exists()
        if status_in is not None:
            condition &= TaskItem.status.is_in(*status_in)
        if status_not_in is not None:
            condition &= ~TaskItem.status.is_in(*status_not_in)
        if pause_requested is not None:
            condition &= TaskItem.pause_requested == pause_requested
        if cancel_requested is not None:
            condition &= TaskItem.cancel_requested == cancel_requested
        actions = [
            getattr(TaskItem, name).remove() if value is None else getattr(TaskItem, name).set(value)
            for name, value in {**changes, "updated_at": time.time()}.items()
        ]
        item = TaskItem(self._task_pk(tenant_id), task_id)
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                return None
            raise
        return _task(item)

    def add_usage(
        self, tenant_id: str, task_id: str, *, input_tokens: int, output_tokens: int, cost_usd: float, offline: bool
    ) -> int:
        """Add one model call's usage to the task; returns the task's total tokens afterwards."""
        item = TaskItem(self._task_pk(tenant_id), task_id)
        actions: list[Action] = [
            TaskItem.input_tokens.add(input_tokens),
            TaskItem.output_tokens.add(output_tokens),
            TaskItem.cost_usd.add(cost_usd),
            TaskItem.model_calls.add(1),
        ]
        if offline:
            actions.append(TaskItem.offline.set(True))
        item.update(actions=actions, condition=TaskItem.pk.exists())
        return int(item.input_tokens or 0) + int(item.output_tokens or 0)

    def tokens_used(self, tenant_id: str, task_id: str) -> int:
        """Tokens the task spent so far (a small read: agents ask before every model call)."""
        try:
            item = TaskItem.get(
                self._task_pk(tenant_id),
                task_id,
                consistent_read=True,
                attributes_to_get=["input_tokens", "output_tokens"],
            )
        except TaskItem.DoesNotExist as exc:
            raise NotFound(f"task {task_id} not found") from exc
        return int(item.input_tokens or 0) + int(item.output_tokens or 0)

    def cancel_requested(self, tenant_id: str, task_id: str) -> bool:
        """Whether the task should stop (a small read: agents ask between turns)."""
        try:
            item = TaskItem.get(
                self._task_pk(tenant_id),
                task_id,
                consistent_read=True,
                attributes_to_get=["cancel_requested", "status"],
            )
        except TaskItem.DoesNotExist:
            return True
        return bool(item.cancel_requested) or item.status in ("cancelled", "failed", "succeeded")

    def count_step(self, tenant_id: str, task_id: str) -> None:
        TaskItem(self._task_pk(tenant_id), task_id).update(
            actions=[TaskItem.steps_used.add(1)], condition=TaskItem.pk.exists()
        )

    def delete_task(self, tenant_id: str, task_id: str) -> None:
        # Steps, agents and data share the task's inner partition: one query finds them all.
        for item in list(StepItem.query(self._inner_pk(tenant_id, task_id))):
            item.delete()
        TaskItem(self._task_pk(tenant_id), task_id).delete()

    def task_data(self, tenant_id: str, task_id: str) -> tuple[list[dict[str, str]], list[AgentSpec]]:
        try:
            item = TaskDataItem.get(self._inner_pk(tenant_id, task_id), "DATA", consistent_read=True)
        except TaskDataItem.DoesNotExist as exc:
            raise NotFound(f"task {task_id} not found") from exc
        return list(item.inputs or []), [AgentSpec.model_validate(spec) for spec in item.specs or []]

    def put_steps(self, tenant_id: str, task_id: str, steps: Sequence[PlannedStep]) -> None:
        """Create pending steps; a step that already exists (a retried plan) is left as it is."""
        pk = self._inner_pk(tenant_id, task_id)
        for step in steps:
            item = StepItem(
                pk,
                f"STEP#{step.step_id}",
                agent=step.agent,
                role=step.role,
                round=step.round,
                stage=step.stage,
                question=step.question,
                status="pending",
                context=step.context or None,
            )
            try:
                item.save(condition=StepItem.pk.does_not_exist())
            except PutError as exc:
                if exc.cause_response_code != _CONDITION_FAILED:
                    raise

    def find_step(self, tenant_id: str, task_id: str, step_id: str) -> StepRecord | None:
        try:
            item = StepItem.get(self._inner_pk(tenant_id, task_id), f"STEP#{step_id}", consistent_read=True)
        except StepItem.DoesNotExist:
            return None
        return _step(item, tenant_id, task_id)

    def list_steps(
        self, tenant_id: str, task_id: str, *, outputs: Literal["all", "text", "none"] = "all"
    ) -> list[StepRecord]:
        """Every step of the task; leave out the (large) outputs when only states or texts matter."""
        attributes = {"all": None, "text": [*_STEP_STATE_ATTRIBUTES, "output_text"], "none": _STEP_STATE_ATTRIBUTES}
        items = StepItem.query(
            self._inner_pk(tenant_id, task_id),
            StepItem.sk.startswith("STEP#"),
            consistent_read=True,
            attributes_to_get=attributes[outputs],
        )
        steps = [_step(item, tenant_id, task_id) for item in items]
        return sorted(steps, key=lambda s: (s.stage, s.step_id))

    def update_step(
        self,
        tenant_id: str,
        task_id: str,
        step_id: str,
        changes: dict[str, Any],
        *,
        status_not_in: Iterable[str] | None = None,
        add: dict[str, float] | None = None,
    ) -> StepRecord | None:
        condition: Condition = StepItem.pk.exists()
        if status_not_in is not None:
            condition &= ~StepItem.status.is_in(*status_not_in)
        actions = [
            getattr(StepItem, name).remove() if value is None else getattr(StepItem, name).set(value)
            for name, value in changes.items()
        ]
        actions += [getattr(StepItem, name).add(value) for name, value in (add or {}).items()]
        item = StepItem(self._inner_pk(tenant_id, task_id), f"STEP#{step_id}")
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                return None
            raise
        return _step(item, tenant_id, task_id)

    def update_task_agent(
        self,
        tenant_id: str,
        task_id: str,
        name: str,
        *,
        state: str,
        last_output: str | None = None,
        usage: Usage | None = None,
        count_step: bool = False,
    ) -> None:
        actions: list[Any] = [TaskAgentItem.state.set(state), TaskAgentItem.updated_at.set(time.time())]
        if last_output is not None:
            actions.append(TaskAgentItem.last_output.set(last_output))
        if count_step:
            actions.append(TaskAgentItem.steps.add(1))
        if usage is not None:
            actions += [
                TaskAgentItem.input_tokens.add(usage.input_tokens),
                TaskAgentItem.output_tokens.add(usage.output_tokens),
                TaskAgentItem.cost_usd.add(usage.cost_usd),
                TaskAgentItem.model_calls.add(usage.model_calls),
            ]
            if usage.offline:
                actions.append(TaskAgentItem.offline.set(True))
        TaskAgentItem(self._inner_pk(tenant_id, task_id), f"AGENT#{name}").update(actions=actions)

    def task_agents(self, tenant_id: str, task_id: str) -> dict[str, tuple[str, int, str | None, Usage]]:
        """name -> (state, steps, last output, usage)."""
        items = TaskAgentItem.query(
            self._inner_pk(tenant_id, task_id), TaskAgentItem.sk.startswith("AGENT#"), consistent_read=True
        )
        return {
            item.sk.removeprefix("AGENT#"): (item.state, int(item.steps or 0), item.last_output, _usage(item))
            for item in items
        }

    def put_agent(self, tenant_id: str, spec: AgentSpec, created_by: str) -> float:
        now = time.time()
        item = AgentSpecItem(
            tenant_key(tenant_id, "AGENT"),
            spec.name,
            role=spec.role,
            instructions=spec.instructions,
            model=spec.model,
            tools=list(spec.tools),
            handoffs=list(spec.handoffs),
            created_at=now,
            created_by=created_by,
        )
        try:
            item.save(condition=AgentSpecItem.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                existing = self.find_agent(tenant_id, spec.name)
                raise Conflict(
                    f"agent {spec.name} is already registered",
                    current=existing[0].model_dump(mode="json") if existing else None,
                ) from exc
            raise
        return now

    def find_agent(self, tenant_id: str, name: str) -> tuple[AgentSpec, float] | None:
        try:
            item = AgentSpecItem.get(tenant_key(tenant_id, "AGENT"), name, consistent_read=True)
        except AgentSpecItem.DoesNotExist:
            return None
        return spec_of(item), float(item.created_at)

    def list_agents(self, tenant_id: str) -> list[tuple[AgentSpec, float]]:
        return [
            (spec_of(item), float(item.created_at))
            for item in AgentSpecItem.query(tenant_key(tenant_id, "AGENT"), consistent_read=True)
        ]

    def delete_agent(self, tenant_id: str, name: str) -> bool:
        try:
            AgentSpecItem(tenant_key(tenant_id, "AGENT"), name).delete(condition=AgentSpecItem.pk.exists())
        except DeleteError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True
