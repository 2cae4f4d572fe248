"""What the orchestrator API does: create and read tasks, replay their events, interrupt them, manage agents.

Every method takes the caller's principal; a task or agent of another tenant does not exist (404).
State changes are conditional writes on the state they expect; when the task is not in it, the answer
is 409 with the task's current state.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import TYPE_CHECKING, Any

from orchestrator.domain import ACTIVE, TASK_CANCELLED_ERROR, TERMINAL, TaskRecord, Usage
from orchestrator.repository import OrchestratorRepository
from orchestrator.schemas import (
    AgentView,
    CreateTaskRequest,
    EventPageView,
    EventView,
    InterruptRequest,
    RegisterAgentRequest,
    StepOutputView,
    TaskAgentView,
    TaskSummaryView,
    TaskView,
    WaitingView,
)
from orchestrator.settings import OrchestratorSettings
from stratus.agents import BUILTIN_AGENTS, DEFAULT_TEAM, AgentSpec, builtin_tools, excerpt, validate_spec, validate_team
from stratus.errors import Conflict, NotFound, ValidationFailed
from stratus.identity import Principal
from stratus.observability import logger

if TYPE_CHECKING:
    from stratus.flows import ProgressLog, StepFunctions, TaskTokenStore

_TASK_ID = re.compile(r"^t[0-9a-f]{22}$")
RECONCILE_AFTER_S = 10.0
EVENT_POLL_S = 0.25


def new_task_id() -> str:
    """Time-ordered (newest last when sorted), unguessable, and a valid execution name."""
    return f"t{int(time.time() * 1000):012x}{secrets.token_hex(5)}"


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class TaskService:
    def __init__(
        self,
        settings: OrchestratorSettings,
        repository: OrchestratorRepository,
        progress: ProgressLog,
        tokens: TaskTokenStore,
        step_functions: StepFunctions,
    ) -> None:
        self._settings = settings
        self._repo = repository
        self._progress = progress
        self._tokens = tokens
        self._sfn = step_functions

    def _tenant_agents(self, tenant_id: str) -> dict[str, AgentSpec]:
        return {spec.name: spec for spec, _ in self._repo.list_agents(tenant_id)}

    def list_agents(self, principal: Principal) -> list[AgentView]:
        views = [_agent_view(spec, None) for spec in BUILTIN_AGENTS.values()]
        views += [_agent_view(spec, at) for spec, at in self._repo.list_agents(principal.tenant_id)]
        return sorted(views, key=lambda view: (not view.builtin, view.name))

    def get_agent(self, principal: Principal, name: str) -> AgentView:
        if name in BUILTIN_AGENTS:
            return _agent_view(BUILTIN_AGENTS[name], None)
        found = self._repo.find_agent(principal.tenant_id, name)
        if found is None:
            raise NotFound(f"agent {name} not found")
        return _agent_view(*found)

    def register_agent(self, principal: Principal, body: RegisterAgentRequest) -> AgentView:
        spec = AgentSpec(
            name=body.name,
            role=body.role,
            instructions=body.instructions,
            model=body.model,
            tools=tuple(body.tools),
            handoffs=tuple(body.handoffs),
        )
        if spec.name in BUILTIN_AGENTS:
            raise Conflict(
                f"{spec.name} is a built-in agent; choose another name",
                current=_agent_view(BUILTIN_AGENTS[spec.name], None).model_dump(mode="json"),
            )
        known = set(BUILTIN_AGENTS) | set(self._tenant_agents(principal.tenant_id))
        validate_spec(spec, known_agents=known, tools=builtin_tools().names())
        created_at = self._repo.put_agent(principal.tenant_id, spec, principal.user_id)
        return _agent_view(spec, created_at)

    def delete_agent(self, principal: Principal, name: str) -> None:
        if name in BUILTIN_AGENTS:
            raise Conflict(f"{name} is a built-in agent and cannot be deleted")
        if not self._repo.delete_agent(principal.tenant_id, name):
            raise NotFound(f"agent {name} not found")

    def _options(self, body: CreateTaskRequest, team_size: int) -> dict[str, Any]:
        settings = self._settings
        options = body.options
        max_steps = settings.orchestrator_default_max_steps if options.max_steps is None else options.max_steps
        budget = settings.orchestrator_default_token_budget if options.token_budget is None else options.token_budget
        if max_steps <= 0 or max_steps > settings.orchestrator_max_steps_limit:
            raise ValidationFailed(
                f"max_steps must be between 1 and {settings.orchestrator_max_steps_limit}", field="options.max_steps"
            )
        if max_steps < team_size:
            raise ValidationFailed(
                f"max_steps {max_steps} is fewer than the {team_size} agents on the team: each needs a step",
                field="options.max_steps",
            )
        if budget <= 0 or budget > settings.orchestrator_token_budget_limit:
            raise ValidationFailed(
                f"token_budget must be between 1 and {settings.orchestrator_token_budget_limit}",
                field="options.token_budget",
            )
        return {
            "approvals": options.approvals.model_dump(),
            "max_steps": max_steps,
            "token_budget": budget,
            "max_rounds": options.max_rounds or settings.orchestrator_max_rounds,
        }

    def create_task(self, principal: Principal, body: CreateTaskRequest) -> TaskView:
        tenant = principal.tenant_id
        team = list(body.agents) if body.agents is not None else list(DEFAULT_TEAM)
        tenant_agents = self._tenant_agents(tenant)
        catalog = {**BUILTIN_AGENTS, **tenant_agents}
        validate_team(team, known_agents=catalog)
        options = self._options(body, len(team))
        names = [item.name for item in body.inputs]
        if len(set(names)) != len(names):
            raise ValidationFailed("input names must be unique", field="inputs")
        size = sum(len(item.content.encode()) for item in body.inputs)
        if size > self._settings.orchestrator_max_input_bytes:
            raise ValidationFailed(
                f"inputs total {size} bytes; at most {self._settings.orchestrator_max_input_bytes} are accepted",
                field="inputs",
            )
        task_id = new_task_id()
        task = self._repo.create_task(
            tenant,
            task_id,
            goal=body.goal,
            team=team,
            options=options,
            inputs=[item.model_dump() for item in body.inputs],
            specs=[catalog[name] for name in team],
            created_by=principal.user_id,
            created_by_key=principal.key_id,
        )
        self._progress.append(
            tenant,
            task_id,
            "task.created",
            {
                "goal": body.goal,
                "agents": team,
                "options": options,
                "inputs": [{"name": item.name, "bytes": len(item.content.encode())} for item in body.inputs],
                "by": principal.user_id,
            },
            key="task.created",
        )
        payload = {
            "tenant_id": tenant,
            "task_id": task_id,
            "timeouts": {
                "approval_s": self._settings.orchestrator_approval_timeout_s,
                "pause_s": self._settings.orchestrator_pause_timeout_s,
            },
        }
        try:
            arn = self._sfn.start_execution(self._settings.orchestrator_state_machine_arn, task_id, payload)
        except Exception:
            # Nothing half-written: a task that never started leaves no trace.
            self._progress.delete_run(tenant, task_id)
            self._repo.delete_task(tenant, task_id)
            raise
        task = self._repo.update_task(tenant, task_id, {"execution_arn": arn}) or task
        logger.info("task started", extra={"task_id": task_id, "agents": team})
        return self._view(task)

    def _task(self, principal: Principal, task_id: str) -> TaskRecord:
        if not _TASK_ID.fullmatch(task_id):
            raise NotFound(f"task {task_id} not found")
        return self._reconcile(self._repo.get_task(principal.tenant_id, task_id))

    def _reconcile(self, task: TaskRecord) -> TaskRecord:
        """A task whose execution ended without the flow saying so (timed out, aborted) ends failed here."""
        if task.terminal or not task.execution_arn or time.time() - task.updated_at < RECONCILE_AFTER_S:
            return task
        execution = self._sfn.describe(task.execution_arn)
        if execution is not None and execution.running:
            return task
        status = execution.status if execution else "missing"
        reason = f"the execution ended {status}" + (
            f": {execution.error} {execution.cause or ''}".rstrip() if execution and execution.error else ""
        )
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {"status": "failed", "failure": reason, "finished_at": time.time(), "waiting": None, "current_step": None},
            status_not_in=TERMINAL,
        )
        if updated is None:
            return self._repo.get_task(task.tenant_id, task.task_id)
        self._progress.append(
            task.tenant_id, task.task_id, "task.failed", {"reason": reason}, parent=1, key="task.failed"
        )
        return updated

    def get_task(self, principal: Principal, task_id: str) -> TaskView:
        return self._view(self._task(principal, task_id))

    def list_tasks(
        self, principal: Principal, limit: int, position: dict[str, Any] | None
    ) -> tuple[list[TaskSummaryView], dict[str, Any] | None]:
        """The tenant's tasks, newest first, from ``position``; with the position of the next page."""
        start_after = str(position["after"]) if position else None
        tasks, last = self._repo.list_tasks(principal.tenant_id, limit, start_after)
        items = [
            TaskSummaryView(
                task_id=t.task_id,
                goal=excerpt(t.goal, 200),
                status=t.status,
                created_at=_iso(t.created_at) or "",
                finished_at=_iso(t.finished_at),
            )
            for t in tasks
        ]
        return items, ({"after": last} if last else None)

    def delete_task(self, principal: Principal, task_id: str) -> None:
        task = self._task(principal, task_id)
        if not task.terminal:
            raise Conflict(f"task {task_id} is {task.status}: cancel it before deleting it", current=task.state())
        self._progress.delete_run(task.tenant_id, task_id)
        self._repo.delete_task(task.tenant_id, task_id)

    def _view(self, task: TaskRecord) -> TaskView:
        steps = self._repo.list_steps(task.tenant_id, task.task_id, outputs="text")
        base = f"/orchestrator/tasks/{task.task_id}"
        return TaskView(
            task_id=task.task_id,
            goal=task.goal,
            agents=task.team,
            status=task.status,
            current_step=task.current_step,
            round=task.round,
            steps_used=task.steps_used,
            options=task.options,
            waiting=WaitingView.model_validate(task.waiting) if task.waiting else None,
            pause_requested=task.pause_requested,
            plan=task.plan.as_dict(),
            outputs=[
                StepOutputView(
                    step_id=s.step_id,
                    agent=s.agent,
                    round=s.round,
                    stage=s.stage,
                    status=s.status,
                    question=s.question,
                    summary=excerpt(s.output_text, 600),
                    attempts=s.attempts,
                    error=s.error,
                )
                for s in steps
            ],
            result=task.result,
            usage=task.usage,
            failure=task.failure,
            execution_arn=task.execution_arn,
            created_at=_iso(task.created_at) or "",
            updated_at=_iso(task.updated_at) or "",
            finished_at=_iso(task.finished_at),
            last_event_seq=self._progress.last_seq(task.tenant_id, task.task_id),
            links={
                "self": base,
                "events": f"{base}/events",
                "agents": f"{base}/agents",
                "interrupt": f"{base}/interrupt",
                "websocket_topic": task.task_id,
            },
        )

    def task_agents(self, principal: Principal, task_id: str) -> list[TaskAgentView]:
        task = self._task(principal, task_id)
        _, specs = self._repo.task_data(task.tenant_id, task_id)
        states = self._repo.task_agents(task.tenant_id, task_id)
        views = []
        for spec in specs:
            state, steps, last_output, usage = states.get(spec.name, ("idle", 0, None, Usage()))
            views.append(
                TaskAgentView(
                    name=spec.name,
                    role=spec.role,
                    builtin=spec.builtin,
                    model=spec.model,
                    state=state,  # type: ignore[arg-type]
                    steps=steps,
                    last_output=last_output,
                    usage=usage,
                )
            )
        return views

    def events(self, principal: Principal, task_id: str, *, after: int, limit: int, wait_s: float) -> EventPageView:
        """Events after ``after``; with ``wait_s``, wait up to that long for the next one (long polling)."""
        task = self._task(principal, task_id)
        deadline = time.monotonic() + min(wait_s, self._settings.orchestrator_events_wait_limit_s)
        items = self._progress.events(task.tenant_id, task_id, after=after, limit=limit)
        while not items and not task.terminal and time.monotonic() < deadline:
            time.sleep(EVENT_POLL_S)
            items = self._progress.events(task.tenant_id, task_id, after=after, limit=limit)
            if not items:
                task = self._repo.get_task(task.tenant_id, task_id)
        return EventPageView(
            task_id=task_id,
            status=task.status,
            items=[EventView(**event.as_dict()) for event in items],
            next_after=items[-1].seq if items else after,
            last_seq=self._progress.last_seq(task.tenant_id, task_id),
        )

    def interrupt(self, principal: Principal, task_id: str, body: InterruptRequest) -> TaskView:
        if body.action == "reject" and not (body.feedback and body.feedback.strip()):
            raise ValidationFailed("reject needs feedback: say what the next round should change", field="feedback")
        task = self._task(principal, task_id)
        handler = {
            "pause": self._pause,
            "resume": self._resume,
            "approve": self._answer,
            "reject": self._answer,
            "cancel": self._cancel,
        }[body.action]
        return self._view(handler(principal, task, body))

    def _conflict(self, task: TaskRecord, detail: str) -> Conflict:
        current = self._repo.get_task(task.tenant_id, task.task_id)
        return Conflict(detail, current=current.state())

    def _pause(self, principal: Principal, task: TaskRecord, body: InterruptRequest) -> TaskRecord:
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {"pause_requested": True},
            status_in=ACTIVE,
            pause_requested=False,
            cancel_requested=False,
        )
        if updated is None:
            raise self._conflict(
                task,
                f"cannot pause a task that is {task.status}"
                + (" (a pause is already requested)" if task.pause_requested else ""),
            )
        self._progress.append(task.tenant_id, task.task_id, "task.pause_requested", {"by": principal.user_id}, parent=1)
        return updated

    def _resume(self, principal: Principal, task: TaskRecord, body: InterruptRequest) -> TaskRecord:
        if task.status == "paused":
            waiting = self._tokens.take(task.tenant_id, task.task_id, kind="pause")
            if waiting is None:
                raise self._conflict(task, "the task is not holding at a step boundary")
            updated = self._repo.update_task(
                task.tenant_id,
                task.task_id,
                {"status": "running", "pause_requested": False, "waiting": None},
                status_in=("paused",),
            )
            if updated is None:
                self._sfn.send_failure(waiting.token, error=TASK_CANCELLED_ERROR, cause="the task ended while paused")
                raise self._conflict(task, "the task is no longer paused")
            self._progress.append(task.tenant_id, task.task_id, "task.resumed", {"by": principal.user_id}, parent=1)
            if not self._sfn.send_success(waiting.token, {"decision": "resumed", "by": principal.user_id}):
                return self._reconcile_now(updated, "the paused execution no longer waits for a resume")
            return updated
        if task.status in ACTIVE and task.pause_requested:
            updated = self._repo.update_task(
                task.tenant_id, task.task_id, {"pause_requested": False}, status_in=ACTIVE, pause_requested=True
            )
            if updated is None:
                raise self._conflict(task, "the pause already took effect or the task changed state")
            self._progress.append(
                task.tenant_id, task.task_id, "task.resumed", {"by": principal.user_id, "withdrawn": True}, parent=1
            )
            return updated
        raise self._conflict(task, f"cannot resume a task that is {task.status}: only a paused task resumes")

    def _answer(self, principal: Principal, task: TaskRecord, body: InterruptRequest) -> TaskRecord:
        verb = "approve" if body.action == "approve" else "reject"
        waiting = task.waiting or {}
        if task.status != "awaiting_approval":
            raise self._conflict(task, f"nothing awaits approval: the task is {task.status}")
        if body.checkpoint is not None and waiting.get("checkpoint") != body.checkpoint:
            raise self._conflict(
                task, f"the task awaits approval at {waiting.get('checkpoint')}, not {body.checkpoint}"
            )
        token = self._tokens.take(task.tenant_id, task.task_id, kind="approval")
        if token is None:
            raise self._conflict(task, "this checkpoint was already answered")
        decision = {
            "checkpoint": token.checkpoint,
            "decision": "approved" if verb == "approve" else "rejected",
            "feedback": (body.feedback or "").strip() or None,
            "by": principal.user_id,
            "at": _iso(time.time()),
        }
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {
                "status": "running",
                "waiting": None,
                "decisions": [*task.decisions, decision],
                "current_step": f"{decision['decision']} at {token.checkpoint}",
            },
            status_in=("awaiting_approval",),
        )
        if updated is None:
            self._sfn.send_failure(token.token, error=TASK_CANCELLED_ERROR, cause="the task ended while waiting")
            raise self._conflict(task, "the task stopped waiting for approval")
        self._progress.append(
            task.tenant_id,
            task.task_id,
            f"checkpoint.{decision['decision']}",
            {k: v for k, v in decision.items() if k != "at"},
            parent=1,
        )
        if not self._sfn.send_success(token.token, decision):
            return self._reconcile_now(updated, f"the {token.checkpoint} checkpoint timed out before the answer came")
        return updated

    def _cancel(self, principal: Principal, task: TaskRecord, body: InterruptRequest) -> TaskRecord:
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {
                "status": "cancelled",
                "cancel_requested": True,
                "finished_at": time.time(),
                "waiting": None,
                "current_step": None,
            },
            status_not_in=TERMINAL,
        )
        if updated is None:
            raise self._conflict(task, f"cannot cancel a task that is {task.status}")
        self._progress.append(
            task.tenant_id, task.task_id, "task.cancelled", {"by": principal.user_id}, parent=1, key="task.cancelled"
        )
        # A waiting execution does not notice a stop on every runtime: fail its token so it ends either way.
        waiting = self._tokens.take(task.tenant_id, task.task_id)
        if waiting is not None:
            self._sfn.send_failure(waiting.token, error=TASK_CANCELLED_ERROR, cause=f"cancelled by {principal.user_id}")
        if task.execution_arn:
            try:
                self._sfn.stop(
                    task.execution_arn, error=TASK_CANCELLED_ERROR, cause=f"cancelled by {principal.user_id}"
                )
            except Exception:  # best effort: the flow also stops at its next step boundary, seeing the cancel flag
                logger.exception("stopping the execution failed", extra={"task_id": task.task_id})
        return updated

    def _reconcile_now(self, task: TaskRecord, reason: str) -> TaskRecord:
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {"status": "failed", "failure": reason, "finished_at": time.time(), "waiting": None},
            status_not_in=TERMINAL,
        )
        if updated is not None:
            self._progress.append(
                task.tenant_id, task.task_id, "task.failed", {"reason": reason}, parent=1, key="task.failed"
            )
            return updated
        return self._repo.get_task(task.tenant_id, task.task_id)


def _agent_view(spec: AgentSpec, created_at: float | None) -> AgentView:
    return AgentView(
        name=spec.name,
        role=spec.role,
        instructions=spec.instructions,
        model=spec.model,
        tools=list(spec.tools),
        handoffs=list(spec.handoffs),
        builtin=spec.builtin or spec.name in BUILTIN_AGENTS,
        created_at=_iso(created_at),
    )
