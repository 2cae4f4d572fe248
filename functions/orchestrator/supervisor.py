"""The supervisor's decisions, as pure functions: split the goal, plan the stages, judge failures, critique drafts.

Gathering agents (research, code review) run in parallel in one stage; composing agents (writing,
general) run in the next stage, from what the gatherers produced. Every plan respects the steps the
task has left.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from orchestrator.domain import PlannedStep, StepRecord
from stratus.agents import AgentSpec
from stratus.ai.text import sentences, terms

GATHERING: Final = frozenset({"research", "code_review"})
COMPOSING: Final = frozenset({"writing", "general"})
MIN_COVERAGE: Final = 0.5
_FENCE = re.compile(r"```.*?```", re.DOTALL)


def prose(text: str) -> str:
    """``text`` without its fenced code blocks."""
    return _FENCE.sub(" ", text).strip()


def split_goal(goal: str, limit: int) -> list[str]:
    """The goal's distinct asks (sentences with at least two content words), at most ``limit``; else the goal."""
    text = prose(goal)
    asks = [sentence.strip() for sentence in sentences(text) if len(set(terms(sentence))) >= 2]
    if len(asks) <= 1:
        return [text or goal.strip()]
    return asks[:limit]


@dataclass
class Proposal:
    stages: list[list[PlannedStep]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(stage) for stage in self.stages)


def _numbered(assignments: Sequence[tuple[AgentSpec, str]], round_number: int, stage: int) -> list[PlannedStep]:
    counts: dict[str, int] = {}
    for spec, _ in assignments:
        counts[spec.name] = counts.get(spec.name, 0) + 1
    seen: dict[str, int] = {}
    steps = []
    for spec, question in assignments:
        seen[spec.name] = seen.get(spec.name, 0) + 1
        suffix = f"-{seen[spec.name]}" if counts[spec.name] > 1 else ""
        steps.append(
            PlannedStep(
                f"r{round_number}-s{stage}-{spec.name}{suffix}", spec.name, spec.role, question, round_number, stage
            )
        )
    return steps


def _fit(
    gather: list[tuple[AgentSpec, str]], compose: list[tuple[AgentSpec, str]], steps_left: int, notes: list[str]
) -> tuple[list[tuple[AgentSpec, str]], list[tuple[AgentSpec, str]]]:
    """Drop research fan-out first, then gatherers, so the plan fits the steps left; composers go last."""
    while len(gather) + len(compose) > steps_left:
        names = [spec.name for spec, _ in gather]
        repeated = next((i for i in range(len(gather) - 1, -1, -1) if names.count(names[i]) > 1), None)
        if repeated is not None:
            spec, question = gather.pop(repeated)
            notes.append(f"{spec.name}: question dropped to stay within max_steps: {question}")
        elif gather:
            spec, _ = gather.pop()
            notes.append(f"{spec.name}: left out to stay within max_steps")
        else:
            spec, _ = compose.pop()
            notes.append(f"{spec.name}: left out to stay within max_steps")
    return gather, compose


def _stages(
    gather: list[tuple[AgentSpec, str]], compose: list[tuple[AgentSpec, str]], round_number: int, first_stage: int
) -> list[list[PlannedStep]]:
    stages: list[list[PlannedStep]] = []
    for assignments in (gather, compose):
        if assignments:
            stages.append(_numbered(assignments, round_number, first_stage + len(stages)))
    return stages


def plan_round(
    goal: str,
    team: Sequence[AgentSpec],
    *,
    round_number: int,
    first_stage: int,
    has_code: bool,
    feedback: str | None,
    max_questions: int,
    steps_left: int,
) -> Proposal:
    """The stages of a (re)plan: research fans out over the goal's asks (and the feedback), writing follows."""
    proposal = Proposal()
    questions = split_goal(goal, max_questions)
    if feedback:
        questions = [*questions[: max(max_questions - 1, 1)], f"Reviewer feedback: {feedback}"]
        proposal.notes.append(f"round {round_number} re-planned with the reviewer's feedback: {feedback}")
    gather: list[tuple[AgentSpec, str]] = []
    compose: list[tuple[AgentSpec, str]] = []
    fanned_out = False
    for spec in team:
        if spec.role == "research":
            gather += [(spec, q) for q in (questions if not fanned_out else [prose(goal) or goal])]
            fanned_out = True
        elif spec.role == "code_review":
            if has_code:
                gather.append((spec, "Review the code in the task."))
            else:
                proposal.skipped.append(spec.name)
                proposal.notes.append(f"{spec.name}: the task contains no code, so there is nothing to review")
        else:
            # Writers are told what to deliver; a general agent gets the goal itself as its question.
            instruction = (
                f"Write the deliverable for the goal: {prose(goal) or goal}"
                if spec.role == "writing"
                else (prose(goal) or goal)
            )
            if feedback:
                instruction += f"\nAddress the reviewer's feedback: {feedback}"
            compose.append((spec, instruction))
    gather, compose = _fit(gather, compose, steps_left, proposal.notes)
    proposal.stages = _stages(gather, compose, round_number, first_stage)
    return proposal


def revision_round(
    goal: str,
    team: Sequence[AgentSpec],
    *,
    round_number: int,
    first_stage: int,
    feedback: str,
    steps_left: int,
) -> Proposal:
    """Work sent back at the final checkpoint: research the feedback, then revise the deliverable with it."""
    proposal = Proposal(notes=[f"round {round_number}: revising with the reviewer's feedback: {feedback}"])
    researcher = next((spec for spec in team if spec.role == "research"), None)
    gather = [(researcher, f"Reviewer feedback: {feedback}")] if researcher else []
    compose = [
        (
            spec,
            f"Revise the deliverable for the goal: {prose(goal) or goal}\nAddress the reviewer's feedback: {feedback}",
        )
        for spec in team
        if spec.role in COMPOSING
    ]
    gather, compose = _fit(gather, compose, steps_left, proposal.notes)
    proposal.stages = _stages(gather, compose, round_number, first_stage)
    return proposal


def critique_revision(
    team: Sequence[AgentSpec], issues: Sequence[str], *, round_number: int, stage: int, steps_left: int
) -> list[PlannedStep]:
    writers = [spec for spec in team if spec.role in COMPOSING][: max(steps_left, 0)]
    question = "Revise the deliverable to fix the critique: " + "; ".join(issues)
    steps = _numbered([(spec, question) for spec in writers], round_number, stage)
    for step in steps:
        step.context = {"critique": list(issues)}
    return steps


@dataclass(frozen=True)
class Critique:
    issues: list[str]
    coverage: float

    @property
    def accepted(self) -> bool:
        return not self.issues


def critique(goal: str, draft: str, *, feedback: Sequence[str], review_errors: Sequence[str]) -> Critique:
    """Does the draft cover the goal, the reviewers' feedback, and every error the code review found?"""
    draft_terms = set(terms(draft))
    goal_terms = set(terms(prose(goal)))
    coverage = len(goal_terms & draft_terms) / len(goal_terms) if goal_terms else 1.0
    issues = []
    if not draft.strip():
        issues.append("the draft is empty")
    elif coverage < MIN_COVERAGE:
        missing = sorted(goal_terms - draft_terms)[:8]
        issues.append(f"the draft does not cover the goal: nothing on {', '.join(missing)}")
    for item in feedback:
        wanted = set(terms(item))
        if wanted and len(wanted & draft_terms) / len(wanted) < MIN_COVERAGE:
            issues.append(f'the reviewer feedback is not addressed: "{item}"')
    for error in review_errors:
        if error not in draft:
            issues.append(f"the code review error {error} is not reported")
    return Critique(issues, round(coverage, 3))


Verdict = Literal["continue", "fail"]


def judge_failures(failed: Sequence[StepRecord], steps: Sequence[StepRecord]) -> tuple[Verdict, list[str]]:
    """After a stage with failed steps: carry on without them, or end the task (with the reason)."""
    reasons: list[str] = []
    for step in failed:
        why = f"{step.agent} failed after {step.attempts} attempt(s): {step.error or 'unknown error'}"
        same_round = [s for s in steps if s.round == step.round and s.step_id != step.step_id]
        if step.role in COMPOSING:
            if not any(s.role in COMPOSING and s.status == "succeeded" for s in same_round):
                return "fail", [why]
        elif step.role == "research":
            research_ok = any(s.role == "research" and s.status == "succeeded" for s in same_round)
            writers_waiting = any(s.role in COMPOSING and s.status == "pending" for s in same_round)
            if not research_ok and writers_waiting:
                return "fail", [f"{why}; the writing has no research notes to work from"]
        reasons.append(f"continuing without {step.step_id}: {why}")
    return "continue", reasons
