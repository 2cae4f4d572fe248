"""The supervisor's steps of the multi-agent state machine (statemachines/multi_agent.asl.json).

Every control step reads the task from DynamoDB, decides, writes conditionally, records an event and
returns ``{"next": <route>}`` for the state machine's Route choice. Steps are idempotent: a retried
state (same state name and entry time) gets the same events and the same decision. The flow checks
the task's cancel and pause flags at every step boundary.

Routes: plan, approve_plan, boundary, run, hold, critique, approve_final, finalise, cancelled, failed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from orchestrator.domain import TASK_CANCELLED_ERROR, TERMINAL, Plan, Stage, StepRecord, TaskRecord
from orchestrator.repository import OrchestratorRepository
from orchestrator.settings import OrchestratorSettings, get_orchestrator_settings
from orchestrator.supervisor import (
    COMPOSING,
    critique,
    critique_revision,
    judge_failures,
    plan_round,
    revision_round,
)
from orchestrator.wiring import get_progress_log, get_repository, get_step_functions, get_token_store
from stratus.agents import AgentSpec, TaskInput, code_blocks, excerpt
from stratus.flows import ProgressLog, StepFunctions, TaskTokenStore
from stratus.observability import instrument_handler, logger

MAX_HANDOFFS = 3
Route = dict[str, Any]


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _error_text(error: dict[str, Any] | None) -> str:
    """``Error: message`` from a Catch's ``{"Error", "Cause"}`` (Cause is the Lambda's error JSON)."""
    if not error:
        return "unknown error"
    name = str(error.get("Error") or "Error")
    cause = error.get("Cause")
    message = ""
    if isinstance(cause, str) and cause:
        try:
            parsed = json.loads(cause)
            message = str(parsed.get("errorMessage", "")) if isinstance(parsed, dict) else cause
        except json.JSONDecodeError:
            message = cause
    return f"{name}: {message}" if message else name


@dataclass(frozen=True)
class ControlEvent:
    action: str
    tenant_id: str
    task_id: str
    state: str | None
    entered: str | None
    raw: dict[str, Any]

    @classmethod
    def parse(cls, event: dict[str, Any]) -> ControlEvent:
        return cls(
            action=str(event["action"]),
            tenant_id=str(event["tenant_id"]),
            task_id=str(event["task_id"]),
            state=event.get("state"),
            entered=event.get("entered"),
            raw=event,
        )

    def key(self, what: str) -> str | None:
        """Same state entry, same key: a retried state never records an event twice."""
        if not self.state or not self.entered:
            return None
        return f"{self.state}@{self.entered}:{what}"


class FlowControl:
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

    def handle(self, event: ControlEvent) -> Route:
        task = self._repo.find_task(event.tenant_id, event.task_id)
        if task is None:
            logger.warning("control step for a task that does not exist", extra={"task_id": event.task_id})
            return {"next": "failed", "reason": f"task {event.task_id} does not exist"}
        handler = getattr(self, f"_{event.action}", None)
        if handler is None:
            raise ValueError(f"unknown control action {event.action!r}")
        if event.action not in ("cancelled", "fail", "step_failed") and (task.cancel_requested or task.terminal):
            if "token" in event.raw:  # a wait that must not start: answer it at once, or the flow would hang
                self._sfn.send_failure(str(event.raw["token"]), error=TASK_CANCELLED_ERROR, cause="task has ended")
            return {"next": "cancelled" if task.status == "cancelled" or task.cancel_requested else task.status}
        route: Route = handler(event, task)
        return route

    def _emit(
        self, event: ControlEvent, kind: str, data: dict[str, Any], *, parent: int | None = 1, what: str | None = None
    ) -> int:
        recorded = self._progress.append(
            event.tenant_id, event.task_id, kind, data, parent=parent, key=event.key(what or kind)
        )
        return recorded.seq

    def _specs(self, task: TaskRecord) -> tuple[list[AgentSpec], list[TaskInput]]:
        inputs, specs = self._repo.task_data(task.tenant_id, task.task_id)
        by_name = {spec.name: spec for spec in specs}
        return [by_name[name] for name in task.team if name in by_name], [TaskInput(**item) for item in inputs]

    def _steps_left(self, task: TaskRecord) -> int:
        return task.max_steps - task.plan.planned_steps()

    def _start(self, event: ControlEvent, task: TaskRecord) -> Route:
        self._repo.update_task(
            task.tenant_id, task.task_id, {"status": "running", "current_step": "plan"}, status_in=("queued",)
        )
        self._emit(event, "task.started", {"execution_arn": task.execution_arn, "agents": task.team})
        return {"next": "plan"}

    def _plan(self, event: ControlEvent, task: TaskRecord) -> Route:
        plan = task.plan
        if not any(stage.round == task.round for stage in plan.stages):
            team, inputs = self._specs(task)
            feedback = task.feedback()[-1] if task.round > 1 and task.feedback() else None
            proposal = plan_round(
                task.goal,
                team,
                round_number=task.round,
                first_stage=plan.next_stage_number(),
                has_code=any(block.is_python for block in code_blocks(task.goal, inputs)),
                feedback=feedback,
                max_questions=self._settings.orchestrator_max_research_questions,
                steps_left=self._steps_left(task),
            )
            if not proposal.stages:
                return self._record_failure(
                    event, task, "nothing to plan: no agent of this team has work within max_steps"
                )
            self._repo.put_steps(task.tenant_id, task.task_id, [s for stage in proposal.stages for s in stage])
            for name in proposal.skipped:
                self._repo.update_task_agent(task.tenant_id, task.task_id, name, state="skipped")
            seq = self._emit(
                event,
                "plan.created",
                {
                    "round": task.round,
                    "stages": [
                        [{"step_id": s.step_id, "agent": s.agent, "question": s.question} for s in stage]
                        for stage in proposal.stages
                    ],
                    "notes": proposal.notes,
                    "feedback": feedback,
                },
            )
            plan.stages += [Stage(stage[0].stage, task.round, [s.step_id for s in stage]) for stage in proposal.stages]
            plan.notes += proposal.notes
            plan.round_seqs[str(task.round)] = seq
            self._repo.update_task(task.tenant_id, task.task_id, {"plan": plan.as_dict(), "current_step": "planned"})
        if task.approval("after_plan"):
            return {"next": "approve_plan"}
        return {"next": "boundary"}

    def _await_approval(self, event: ControlEvent, task: TaskRecord) -> Route:
        checkpoint = str(event.raw["checkpoint"])
        token = str(event.raw["token"])
        self._tokens.put(task.tenant_id, task.task_id, token, "approval", checkpoint=checkpoint)
        waiting = {"kind": "approval", "checkpoint": checkpoint, "since": _iso(time.time())}
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {"status": "awaiting_approval", "waiting": waiting, "current_step": f"awaiting approval ({checkpoint})"},
            status_in=("running",),
            cancel_requested=False,
        )
        if updated is None:
            return self._release(task, "approval")
        draft = self._draft(task) if checkpoint == "before_final" else None
        self._emit(
            event,
            "checkpoint.waiting",
            {
                "checkpoint": checkpoint,
                "round": task.round,
                "plan": task.plan.as_dict()["stages"] if checkpoint == "after_plan" else None,
                "draft": excerpt(draft[1], 2000) if draft else None,
            },
        )
        return {"waiting": checkpoint}

    def _hold(self, event: ControlEvent, task: TaskRecord) -> Route:
        token = str(event.raw["token"])
        self._tokens.put(task.tenant_id, task.task_id, token, "pause")
        waiting = {"kind": "pause", "checkpoint": None, "since": _iso(time.time())}
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {"status": "paused", "waiting": waiting, "current_step": f"paused after {task.current_step or 'planning'}"},
            status_in=("running",),
            pause_requested=True,
            cancel_requested=False,
        )
        if updated is None:
            return self._release(task, "pause")
        self._emit(event, "task.paused", {"at_step_boundary": True, "current_step": task.current_step})
        return {"waiting": "pause"}

    def _release(self, task: TaskRecord, kind: str) -> Route:
        """The wait is no longer wanted (cancelled, or the pause withdrawn meanwhile): answer our own token."""
        waiting = self._tokens.take(task.tenant_id, task.task_id, kind=kind)
        if waiting is None:
            return {"released": False}
        current = self._repo.get_task(task.tenant_id, task.task_id)
        if current.cancel_requested or current.status == "cancelled":
            self._sfn.send_failure(waiting.token, error=TASK_CANCELLED_ERROR, cause="the task was cancelled")
        elif kind == "pause":
            self._sfn.send_success(waiting.token, {"decision": "resumed", "released": True})
        else:  # an approval nobody can give any more: the flow records why and ends
            self._sfn.send_failure(waiting.token, error="CheckpointAbandoned", cause=f"the task is {current.status}")
        return {"released": True}

    def _decide(self, event: ControlEvent, task: TaskRecord) -> Route:
        decision = dict(event.raw.get("decision") or {})
        checkpoint = str(decision.get("checkpoint") or event.raw.get("checkpoint") or "")
        approved = decision.get("decision") == "approved"
        if approved:
            return {"next": "boundary" if checkpoint == "after_plan" else "finalise"}
        feedback = str(decision.get("feedback") or "")
        if task.round >= task.max_rounds:
            return self._record_failure(
                event,
                task,
                f"the work was rejected at the {checkpoint} checkpoint in round {task.round}, and max_rounds "
                f"({task.max_rounds}) allows no further round",
            )
        plan = task.plan
        next_round = task.round + 1
        if checkpoint == "after_plan":
            for stage in plan.stages:
                if stage.round == task.round and stage.state == "pending":
                    stage.state = "dropped"
                    for step_id in stage.steps:
                        self._repo.update_step(task.tenant_id, task.task_id, step_id, {"status": "skipped"})
            self._repo.update_task(
                task.tenant_id, task.task_id, {"round": next_round, "plan": plan.as_dict(), "current_step": "re-plan"}
            )
            return {"next": "plan"}
        team, _ = self._specs(task)
        proposal = revision_round(
            task.goal,
            team,
            round_number=next_round,
            first_stage=plan.next_stage_number(),
            feedback=feedback,
            steps_left=self._steps_left(task),
        )
        if not proposal.stages:
            return self._record_failure(event, task, "the result was rejected, but no steps are left to revise it")
        self._repo.put_steps(task.tenant_id, task.task_id, [s for stage in proposal.stages for s in stage])
        seq = self._emit(
            event,
            "plan.revised",
            {
                "round": next_round,
                "reason": "rejected at the final checkpoint",
                "feedback": feedback,
                "stages": [[{"step_id": s.step_id, "agent": s.agent} for s in stage] for stage in proposal.stages],
                "notes": proposal.notes,
            },
        )
        plan.stages += [
            Stage(stage[0].stage, next_round, [s.step_id for s in stage], kind="revision") for stage in proposal.stages
        ]
        plan.notes += proposal.notes
        plan.round_seqs[str(next_round)] = seq
        self._repo.update_task(task.tenant_id, task.task_id, {"round": next_round, "plan": plan.as_dict()})
        return {"next": "boundary"}

    def _boundary(self, event: ControlEvent, task: TaskRecord) -> Route:
        if task.pause_requested:
            return {"next": "hold"}
        plan = task.plan
        steps = {step.step_id: step for step in self._repo.list_steps(task.tenant_id, task.task_id, outputs="none")}
        running = next((stage for stage in plan.stages if stage.state == "running"), None)
        if running is not None:
            unfinished = [sid for sid in running.steps if steps[sid].status in ("pending", "running")]
            if unfinished:  # this boundary was retried right after it started the stage
                return {"next": "run", "steps": unfinished}
            running.state = "done"
            outcome = self._after_stage(event, task, plan, running, steps)
            if outcome is not None:
                return outcome
        if task.usage.input_tokens + task.usage.output_tokens >= task.token_budget:
            self._drop_pending(task, plan, f"token budget of {task.token_budget} spent")
        pending = next((stage for stage in plan.stages if stage.state == "pending"), None)
        if pending is None:
            self._repo.update_task(task.tenant_id, task.task_id, {"plan": plan.as_dict(), "current_step": "critique"})
            return {"next": "critique"}
        room = task.max_steps - task.steps_used
        if room <= 0:
            self._drop_pending(task, plan, f"max_steps ({task.max_steps}) reached")
            self._repo.update_task(task.tenant_id, task.task_id, {"plan": plan.as_dict(), "current_step": "critique"})
            return {"next": "critique"}
        if len(pending.steps) > room:
            for step_id in pending.steps[room:]:
                self._repo.update_step(task.tenant_id, task.task_id, step_id, {"status": "skipped"})
            plan.notes.append(f"stage {pending.number}: {len(pending.steps) - room} step(s) skipped at max_steps")
            pending.steps = pending.steps[:room]
        pending.state = "running"
        agents = [steps[sid].agent if sid in steps else sid for sid in pending.steps]
        pending.seq = self._emit(
            event,
            "stage.started",
            {
                "stage": pending.number,
                "round": pending.round,
                "kind": pending.kind,
                "steps": pending.steps,
                "agents": agents,
            },
            parent=plan.round_seqs.get(str(pending.round), 1),
            what=f"stage-{pending.number}",
        )
        current = f"{', '.join(dict.fromkeys(agents))} (stage {pending.number}, round {pending.round})"
        self._repo.update_task(task.tenant_id, task.task_id, {"plan": plan.as_dict(), "current_step": current})
        return {"next": "run", "steps": pending.steps}

    def _after_stage(
        self, event: ControlEvent, task: TaskRecord, plan: Plan, stage: Stage, steps: dict[str, StepRecord]
    ) -> Route | None:
        failed = [steps[sid] for sid in stage.steps if steps[sid].status == "failed"]
        if failed:
            verdict, reasons = judge_failures(failed, list(steps.values()))
            if verdict == "fail":
                self._repo.update_task(task.tenant_id, task.task_id, {"plan": plan.as_dict()})
                return self._record_failure(event, task, reasons[0])
            plan.notes += reasons
            self._emit(
                event,
                "plan.revised",
                {"reason": "steps failed", "dropped": [s.step_id for s in failed], "notes": reasons},
                what=f"failures-{stage.number}",
            )
        for step_id in stage.steps:
            handoff = steps[step_id].handoff
            if handoff and not handoff.get("scheduled"):
                self._schedule_handoff(event, task, plan, stage, steps[step_id], handoff)
        return None

    def _schedule_handoff(
        self,
        event: ControlEvent,
        task: TaskRecord,
        plan: Plan,
        stage: Stage,
        step: StepRecord,
        handoff: dict[str, Any],
    ) -> None:
        team, _ = self._specs(task)
        by_name = {spec.name: spec for spec in team}
        target, origin = by_name.get(str(handoff["agent"])), by_name.get(step.agent)
        if target is None or origin is None or task.handoffs >= MAX_HANDOFFS or self._steps_left(task) < 2:
            note = f"handoff from {step.agent} to {handoff['agent']} not scheduled (limit or max_steps reached)"
            plan.notes.append(note)
        else:
            from orchestrator.domain import PlannedStep

            first = plan.next_stage_number()
            new = [
                PlannedStep(
                    f"r{task.round}-s{first}-{target.name}",
                    target.name,
                    target.role,
                    str(handoff["note"]),
                    task.round,
                    first,
                ),
                PlannedStep(
                    f"r{task.round}-s{first + 1}-{origin.name}",
                    origin.name,
                    origin.role,
                    f"{step.question}\n(resumed after {target.name}: {handoff['note']})",
                    task.round,
                    first + 1,
                ),
            ]
            self._repo.put_steps(task.tenant_id, task.task_id, new)
            position = plan.stages.index(stage) + 1
            plan.stages[position:position] = [
                Stage(first, task.round, [new[0].step_id], kind="handoff"),
                Stage(first + 1, task.round, [new[1].step_id], kind="handoff"),
            ]
            self._repo.update_task(task.tenant_id, task.task_id, {"handoffs": task.handoffs + 1})
            self._emit(
                event,
                "plan.revised",
                {
                    "reason": "handoff",
                    "from": step.agent,
                    "to": target.name,
                    "note": handoff["note"],
                    "steps": [s.step_id for s in new],
                },
                what=f"handoff-{step.step_id}",
            )
        self._repo.update_step(task.tenant_id, task.task_id, step.step_id, {"handoff": {**handoff, "scheduled": True}})

    def _drop_pending(self, task: TaskRecord, plan: Plan, reason: str) -> None:
        for stage in plan.stages:
            if stage.state == "pending":
                stage.state = "dropped"
                for step_id in stage.steps:
                    self._repo.update_step(task.tenant_id, task.task_id, step_id, {"status": "skipped"})
                plan.notes.append(f"stage {stage.number} dropped: {reason}")

    def _draft(self, task: TaskRecord, steps: list[StepRecord] | None = None) -> tuple[StepRecord, str] | None:
        """The latest composed deliverable, or (without a composing agent) the latest step's output."""
        steps = steps if steps is not None else self._repo.list_steps(task.tenant_id, task.task_id)
        done = [s for s in steps if s.status == "succeeded"]
        composed = [s for s in done if s.role in COMPOSING]
        pool = composed or done
        if not pool:
            return None
        latest = max(pool, key=lambda s: (s.round, s.stage, s.finished_at or 0))
        if composed:
            return latest, latest.output_text
        last_stage = [s for s in done if (s.round, s.stage) == (latest.round, latest.stage)]
        return latest, "\n\n".join(f"## {s.agent}\n\n{s.output_text}" for s in last_stage)

    @staticmethod
    def _review_errors(steps: list[StepRecord]) -> list[str]:
        reviews = [s for s in steps if s.role == "code_review" and s.status == "succeeded"]
        if not reviews:
            return []
        latest = max(reviews, key=lambda s: (s.round, s.stage))
        return sorted(
            {
                str(finding["code"])
                for report in latest.output_data.get("files", [])
                for finding in report.get("findings", [])
                if finding.get("severity") == "error"
            }
        )

    def _critique(self, event: ControlEvent, task: TaskRecord) -> Route:
        steps = self._repo.list_steps(task.tenant_id, task.task_id)
        draft = self._draft(task, steps)
        team, _ = self._specs(task)
        plan = task.plan
        feedback = task.feedback()[-1:] if task.round > 1 else []
        if draft is not None and any(spec.role in COMPOSING for spec in team):
            verdict = critique(task.goal, draft[1], feedback=feedback, review_errors=self._review_errors(steps))
            can_revise = task.round not in plan.critiqued_rounds and self._steps_left(task) >= 1
            revise = not verdict.accepted and can_revise and task.steps_used < task.max_steps
            self._emit(
                event,
                "critique",
                {
                    "round": task.round,
                    "draft_step": draft[0].step_id,
                    "verdict": "revise" if revise else "accept",
                    "issues": verdict.issues,
                    "coverage": verdict.coverage,
                },
            )
            if revise:
                stage_number = plan.next_stage_number()
                new = critique_revision(
                    team, verdict.issues, round_number=task.round, stage=stage_number, steps_left=self._steps_left(task)
                )
                self._repo.put_steps(task.tenant_id, task.task_id, new)
                plan.stages.append(Stage(stage_number, task.round, [s.step_id for s in new], kind="critique"))
                plan.critiqued_rounds.append(task.round)
                self._repo.update_task(task.tenant_id, task.task_id, {"plan": plan.as_dict()})
                return {"next": "boundary"}
        if task.approval("before_final"):
            return {"next": "approve_final"}
        return {"next": "finalise"}

    def _finalise(self, event: ControlEvent, task: TaskRecord) -> Route:
        steps = self._repo.list_steps(task.tenant_id, task.task_id)
        draft = self._draft(task, steps)
        verdict = (
            critique(task.goal, draft[1], feedback=task.feedback()[-1:], review_errors=self._review_errors(steps))
            if draft
            else None
        )
        stopped = [note for note in task.plan.notes if "dropped" in note or "skipped" in note]
        result = {
            "text": draft[1] if draft else "",
            "step_id": draft[0].step_id if draft else None,
            "agent": draft[0].agent if draft else None,
            "round": task.round,
            "open_issues": verdict.issues if verdict else ["no agent produced any output"],
            "notes": stopped,
            "offline": task.usage.offline,
        }
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {
                "status": "succeeded",
                "result": result,
                "finished_at": time.time(),
                "current_step": None,
                "waiting": None,
            },
            status_not_in=TERMINAL,
        )
        if updated is None:
            return {"next": "cancelled"}
        self._emit(
            event,
            "task.succeeded",
            {
                "result_step": result["step_id"],
                "open_issues": result["open_issues"],
                "usage": task.usage.model_dump(),
                "steps_used": task.steps_used,
                "rounds": task.round,
            },
        )
        return {"next": "succeeded"}

    def _record_failure(self, event: ControlEvent, task: TaskRecord, reason: str) -> Route:
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {"status": "failed", "failure": reason, "finished_at": time.time(), "current_step": None, "waiting": None},
            status_not_in=TERMINAL,
        )
        if updated is not None:
            self._emit(event, "task.failed", {"reason": reason}, what="task.failed")
        return {"next": "failed", "reason": reason}

    def _fail(self, event: ControlEvent, task: TaskRecord) -> Route:
        if task.status == "cancelled" or task.cancel_requested:
            return self._cancelled(event, task)
        reason = str(event.raw.get("reason") or "") or f"the flow failed: {_error_text(event.raw.get('error'))}"
        return self._record_failure(event, task, reason)

    def _step_failed(self, event: ControlEvent, task: TaskRecord) -> Route:
        step_id = str(event.raw["step_id"])
        error = event.raw.get("error") or {}
        cancelled = error.get("Error") == TASK_CANCELLED_ERROR or task.cancel_requested
        text = _error_text(error)
        step = self._repo.update_step(
            task.tenant_id,
            task.task_id,
            step_id,
            {"status": "cancelled" if cancelled else "failed", "error": text, "finished_at": time.time()},
            status_not_in=("succeeded",),
        )
        if step is not None and not cancelled:
            self._repo.update_task_agent(task.tenant_id, task.task_id, step.agent, state="failed", last_output=text)
            self._progress.append(
                task.tenant_id,
                task.task_id,
                "step.abandoned",
                {"attempts": step.attempts, "error": text, "reason": "retries exhausted; the supervisor decides next"},
                parent=step.started_seq,
                agent=step.agent,
                step_id=step_id,
                key=f"{step_id}:abandoned",
            )
        return {"step_id": step_id, "failed": True}

    def _cancelled(self, event: ControlEvent, task: TaskRecord) -> Route:
        updated = self._repo.update_task(
            task.tenant_id,
            task.task_id,
            {
                "status": "cancelled",
                "cancel_requested": True,
                "finished_at": time.time(),
                "current_step": None,
                "waiting": None,
            },
            status_not_in=TERMINAL,
        )
        if updated is not None:
            self._progress.append(
                task.tenant_id, task.task_id, "task.cancelled", {"by": "flow"}, parent=1, key="task.cancelled"
            )
        for step in self._repo.list_steps(task.tenant_id, task.task_id, outputs="none"):
            if step.status in ("pending", "running"):
                self._repo.update_step(
                    task.tenant_id,
                    task.task_id,
                    step.step_id,
                    {"status": "cancelled"},
                    status_not_in=("succeeded", "failed"),
                )
        return {"next": "cancelled"}


def get_flow_control() -> FlowControl:
    return FlowControl(
        get_orchestrator_settings(), get_repository(), get_progress_log(), get_token_store(), get_step_functions()
    )


@instrument_handler
def handler(event: dict[str, Any], context: Any) -> Route:
    """Lambda entry point of every control state (the event says which action)."""
    logger.append_keys(task_id=event.get("task_id"), action=event.get("action"))
    return get_flow_control().handle(ControlEvent.parse(event))
