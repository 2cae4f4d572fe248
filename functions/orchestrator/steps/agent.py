"""One agent step of the multi-agent state machine: the agent's bounded tool-calling loop, recorded as it runs.

Invoked by the RunStage Map for each step of a stage. At-least-once safe: a step that already succeeded
returns at once; a retried attempt records its own events (``<step>:a<attempt>:…`` keys). A failure is
recorded and re-raised, so the state machine's Retry and Catch see the Lambda error as on AWS.
"""

from __future__ import annotations

import time
from typing import Any

from orchestrator.domain import StepRecord, TaskRecord, Usage
from orchestrator.repository import OrchestratorRepository
from orchestrator.settings import OrchestratorSettings, get_orchestrator_settings
from orchestrator.supervisor import COMPOSING
from orchestrator.wiring import get_progress_log, get_repository
from stratus.agents import (
    AgentCancelled,
    AgentOutcome,
    AgentRunner,
    AgentSpec,
    ModelGateway,
    StepBrief,
    TaskInput,
    ToolContext,
    behaviour_for,
    builtin_tools,
    chat_model_for,
    excerpt,
)
from stratus.ai.types import Usage as ModelUsage
from stratus.flows import ProgressLog
from stratus.metering import Caller, metering_scope
from stratus.observability import instrument_handler, logger


class TaskCancelled(Exception):
    """The task was cancelled while this step ran: the state machine's Retry skips it, its Catch ends the task.

    The class name is the Lambda ``errorType`` the state machine matches (``domain.TASK_CANCELLED_ERROR``).
    """


class _TaskBudget:
    """The task's token budget, shared by every step of the task (and charged atomically)."""

    def __init__(self, repository: OrchestratorRepository, task: TaskRecord) -> None:
        self._repo = repository
        self._task = task

    def remaining(self) -> int:
        return self._task.token_budget - self._repo.tokens_used(self._task.tenant_id, self._task.task_id)

    def charge(self, usage: ModelUsage) -> None:
        self._repo.add_usage(
            self._task.tenant_id,
            self._task.task_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=usage.cost_usd,
            offline=usage.offline,
        )


class AgentStepRunner:
    def __init__(
        self, settings: OrchestratorSettings, repository: OrchestratorRepository, progress: ProgressLog
    ) -> None:
        self._settings = settings
        self._repo = repository
        self._progress = progress
        self._tools = builtin_tools()

    def run(self, tenant_id: str, task_id: str, step_id: str) -> dict[str, Any]:
        task = self._repo.find_task(tenant_id, task_id)
        step = self._repo.find_step(tenant_id, task_id, step_id) if task else None
        if task is None or step is None:
            logger.warning("agent step for a task or step that does not exist", extra={"step_id": step_id})
            return {"step_id": step_id, "status": "gone"}
        if step.status == "succeeded":
            return {"step_id": step_id, "status": "succeeded"}
        if task.cancel_requested or task.terminal or step.status in ("cancelled", "skipped"):
            self._repo.update_step(tenant_id, task_id, step_id, {"status": "cancelled"}, status_not_in=("succeeded",))
            return {"step_id": step_id, "status": "cancelled"}

        attempt = step.attempts + 1
        inputs, specs = self._repo.task_data(tenant_id, task_id)
        spec = next((s for s in specs if s.name == step.agent), None)
        if spec is None:
            raise LookupError(f"agent {step.agent} is not on the team of task {task_id}")
        stage = task.plan.stage_of(step_id)
        started = self._progress.append(
            tenant_id,
            task_id,
            "step.started",
            {
                "attempt": attempt,
                "role": spec.role,
                "question": step.question,
                "model": spec.model,
                "stage": step.stage,
                "round": step.round,
            },
            parent=stage.seq if stage and stage.seq else 1,
            agent=step.agent,
            step_id=step_id,
            key=f"{step_id}:a{attempt}:started",
        )
        self._repo.update_step(
            tenant_id,
            task_id,
            step_id,
            {"status": "running", "started_at": time.time(), "started_seq": started.seq, "error": None},
            add={"attempts": 1},
        )
        self._repo.update_task_agent(tenant_id, task_id, step.agent, state="running")
        if attempt == 1:
            self._repo.count_step(tenant_id, task_id)

        def emit(kind: str, data: dict[str, Any]) -> None:
            # No idempotency key: a retry is a new attempt, and each attempt's decisions belong in the trail.
            self._progress.append(tenant_id, task_id, kind, data, parent=started.seq, agent=step.agent, step_id=step_id)

        began = time.perf_counter()
        # A retried attempt of the same step repeats its call ids, so the calls it repeats are not counted twice.
        caller = Caller(
            tenant_id, "orchestrator", f"{task_id}:{step_id}", user_id=task.created_by, key_id=task.created_by_key
        )
        try:
            with metering_scope(caller):
                outcome = self._loop(task, step, spec, [TaskInput(**i) for i in inputs], emit)
        except AgentCancelled as exc:
            self._repo.update_step(tenant_id, task_id, step_id, {"status": "cancelled"}, status_not_in=("succeeded",))
            emit("step.cancelled", {"attempt": attempt})
            raise TaskCancelled(str(exc)) from exc
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self._repo.update_step(tenant_id, task_id, step_id, {"status": "failed", "error": error})
            emit("step.failed", {"attempt": attempt, "error": error, "error_type": type(exc).__name__})
            raise
        return self._record(task, step, spec, attempt, outcome, started.seq, (time.perf_counter() - began) * 1000)

    def _loop(
        self, task: TaskRecord, step: StepRecord, spec: AgentSpec, inputs: list[TaskInput], emit: Any
    ) -> AgentOutcome:
        steps = self._repo.list_steps(task.tenant_id, task.task_id)
        done = [s for s in steps if s.status == "succeeded"]
        research = tuple(s.output_data for s in done if s.role == "research")
        reviews = tuple(
            {"agent": s.agent, "text": s.output_text, **s.output_data}
            for s in done
            if s.role == "code_review" and s.round == max((r.round for r in done if r.role == "code_review"), default=0)
        )
        brief = StepBrief(
            tenant_id=task.tenant_id,
            task_id=task.task_id,
            goal=task.goal,
            question=step.question,
            inputs=tuple(inputs),
            research=research,
            reviews=reviews,
            feedback=tuple(task.feedback()) if spec.role in COMPOSING else (),
            critique=tuple(str(issue) for issue in step.context.get("critique", [])),
            team=tuple(task.team),
        )
        model = chat_model_for(spec, self._settings)
        gateway = ModelGateway(model, _TaskBudget(self._repo, task), emit)
        runner = AgentRunner(self._tools, max_turns=self._settings.orchestrator_max_turns)
        return runner.run(
            spec,
            brief,
            behaviour_for(spec, model.provider, self._tools),
            gateway,
            emit=emit,
            tool_context=ToolContext(
                task.tenant_id, task.task_id, tuple(inputs), self._settings.orchestrator_check_timeout_s
            ),
            should_stop=lambda: self._repo.cancel_requested(task.tenant_id, task.task_id),
        )

    def _record(
        self,
        task: TaskRecord,
        step: StepRecord,
        spec: AgentSpec,
        attempt: int,
        outcome: AgentOutcome,
        started_seq: int,
        duration_ms: float,
    ) -> dict[str, Any]:
        totals = outcome.usage
        usage = Usage(
            input_tokens=totals.input_tokens,
            output_tokens=totals.output_tokens,
            cost_usd=round(totals.cost_usd, 6),
            model_calls=totals.model_calls,
            offline=totals.offline,
        )
        handoff = {"agent": outcome.handoff.agent, "note": outcome.handoff.note} if outcome.handoff else None
        self._repo.update_step(
            task.tenant_id,
            task.task_id,
            step.step_id,
            {
                "status": "succeeded",
                "output_text": outcome.text[:60_000],
                "output_data": outcome.data,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cost_usd": usage.cost_usd,
                "model_calls": usage.model_calls,
                "offline": usage.offline,
                "turns": outcome.turns,
                "tool_calls": outcome.tool_calls,
                "finished_at": time.time(),
                "handoff": handoff,
                "error": None,
            },
        )
        self._repo.update_task_agent(
            task.tenant_id,
            task.task_id,
            step.agent,
            state="done",
            last_output=excerpt(outcome.text, 1000),
            usage=usage,
            count_step=True,
        )
        self._progress.append(
            task.tenant_id,
            task.task_id,
            "step.completed",
            {
                "attempt": attempt,
                "output": excerpt(outcome.text, 1500),
                "stopped": outcome.stopped,
                "turns": outcome.turns,
                "tool_calls": outcome.tool_calls,
                "usage": {**totals.as_dict()},
                "duration_ms": round(duration_ms, 1),
                "handoff": handoff,
            },
            parent=started_seq,
            agent=step.agent,
            step_id=step.step_id,
            key=f"{step.step_id}:a{attempt}:completed",
        )
        return {"step_id": step.step_id, "status": "succeeded", "stopped": outcome.stopped}


@instrument_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point of the AgentStep state: ``{"tenant_id", "task_id", "step_id"}``."""
    logger.append_keys(task_id=event.get("task_id"), step_id=event.get("step_id"))
    runner = AgentStepRunner(get_orchestrator_settings(), get_repository(), get_progress_log())
    return runner.run(str(event["tenant_id"]), str(event["task_id"]), str(event["step_id"]))
