"""The supervisor's pure decisions: splitting the goal, planning stages, judging failures, critiquing drafts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.domain import StepRecord, Usage
from orchestrator.supervisor import critique, judge_failures, plan_round, revision_round, split_goal
from stratus.agents import BUILTIN_AGENTS, AgentSpec

TEAM = [BUILTIN_AGENTS[name] for name in ("research", "code_review", "writing")]
GOAL = "Explain how the pipeline rolls back a release. What are the risks of the canary stage?"


def step(step_id: str, agent: str, role: str, status: str, **changes: object) -> StepRecord:
    record = StepRecord(
        tenant_id="t",
        task_id="t1",
        step_id=step_id,
        agent=agent,
        role=role,  # type: ignore[arg-type]
        round=1,
        stage=1,
        question="q",
        status=status,  # type: ignore[arg-type]
        attempts=2,
        output_text="",
        output_data={},
        usage=Usage(),
        turns=0,
        tool_calls=0,
        error="RuntimeError: boom",
        started_seq=None,
        handoff=None,
        started_at=None,
        finished_at=None,
    )
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def test_the_goal_splits_into_its_asks_and_code_never_becomes_a_question() -> None:
    goal = f"{GOAL}\n```python\nimport os\nx = 1\n```"

    assert split_goal(goal, 3) == [
        "Explain how the pipeline rolls back a release.",
        "What are the risks of the canary stage?",
    ]
    assert split_goal(goal, 1) == ["Explain how the pipeline rolls back a release."]
    assert split_goal("Summarise it.", 3) == ["Summarise it."]


def test_gatherers_run_in_parallel_before_the_writer() -> None:
    proposal = plan_round(
        GOAL, TEAM, round_number=1, first_stage=1, has_code=True, feedback=None, max_questions=3, steps_left=12
    )

    assert [[(s.step_id, s.agent) for s in stage] for stage in proposal.stages] == [
        [("r1-s1-research-1", "research"), ("r1-s1-research-2", "research"), ("r1-s1-code_review", "code_review")],
        [("r1-s2-writing", "writing")],
    ]
    assert proposal.stages[0][1].question == "What are the risks of the canary stage?"


def test_without_code_the_reviewer_is_skipped_and_said_so() -> None:
    proposal = plan_round(
        GOAL, TEAM, round_number=1, first_stage=1, has_code=False, feedback=None, max_questions=3, steps_left=12
    )

    assert proposal.skipped == ["code_review"]
    assert "no code" in proposal.notes[0]
    assert [s.agent for stage in proposal.stages for s in stage] == ["research", "research", "writing"]


def test_a_plan_fits_the_steps_left_by_dropping_fan_out_first_then_gatherers() -> None:
    def agents(steps_left: int) -> list[str]:
        proposal = plan_round(
            GOAL,
            TEAM,
            round_number=1,
            first_stage=1,
            has_code=True,
            feedback=None,
            max_questions=3,
            steps_left=steps_left,
        )
        return [s.step_id for stage in proposal.stages for s in stage]

    assert agents(3) == ["r1-s1-research", "r1-s1-code_review", "r1-s2-writing"]
    assert agents(2) == ["r1-s1-research", "r1-s2-writing"]
    assert agents(1) == ["r1-s1-writing"]


def test_feedback_becomes_a_research_question_and_an_instruction_to_the_writer() -> None:
    proposal = plan_round(
        GOAL,
        TEAM,
        round_number=2,
        first_stage=3,
        has_code=False,
        feedback="Cover the canary share.",
        max_questions=3,
        steps_left=10,
    )
    questions = [s.question for stage in proposal.stages for s in stage]

    assert questions[-2] == "Reviewer feedback: Cover the canary share."
    assert "Address the reviewer's feedback: Cover the canary share." in questions[-1]
    assert proposal.stages[0][0].step_id == "r2-s3-research-1"

    revision = revision_round(GOAL, TEAM, round_number=3, first_stage=5, feedback="Shorter.", steps_left=1)
    assert [[s.step_id for s in stage] for stage in revision.stages] == [["r3-s5-writing"]]


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=5), st.booleans())
def test_no_plan_exceeds_the_steps_left_or_loses_the_writer(steps_left: int, questions: int, has_code: bool) -> None:
    proposal = plan_round(
        GOAL,
        TEAM,
        round_number=1,
        first_stage=1,
        has_code=has_code,
        feedback=None,
        max_questions=questions,
        steps_left=steps_left,
    )

    assert 1 <= proposal.size <= steps_left
    assert proposal.stages[-1][-1].agent == "writing"
    ids = [s.step_id for stage in proposal.stages for s in stage]
    assert len(ids) == len(set(ids))


def test_failures_the_team_can_do_without_are_dropped_others_end_the_task() -> None:
    research_ok = step("r1-s1-research-1", "research", "research", "succeeded")
    research_failed = step("r1-s1-research-2", "research", "research", "failed")
    review_failed = step("r1-s1-code_review", "code_review", "code_review", "failed")
    writer = step("r1-s2-writing", "writing", "writing", "pending", stage=2)

    verdict, notes = judge_failures(
        [research_failed, review_failed], [research_ok, research_failed, review_failed, writer]
    )
    assert verdict == "continue"
    assert notes == [
        "continuing without r1-s1-research-2: research failed after 2 attempt(s): RuntimeError: boom",
        "continuing without r1-s1-code_review: code_review failed after 2 attempt(s): RuntimeError: boom",
    ]

    verdict, reasons = judge_failures([research_failed], [research_failed, writer])
    assert verdict == "fail"
    assert reasons == [
        "research failed after 2 attempt(s): RuntimeError: boom; the writing has no research notes to work from"
    ]

    failed_writer = step("r1-s2-writing", "writing", "writing", "failed", stage=2)
    assert judge_failures([failed_writer], [research_ok, failed_writer])[0] == "fail"


def test_the_critique_asks_for_coverage_feedback_and_every_review_error() -> None:
    draft = "The pipeline rolls back a bad release within two minutes. Canary risks: slow detection."

    assert critique(GOAL, draft, feedback=[], review_errors=[]).accepted
    thin = critique(GOAL, "Nothing relevant here.", feedback=[], review_errors=[])
    assert thin.issues[0].startswith("the draft does not cover the goal: nothing on")
    assert critique(GOAL, "", feedback=[], review_errors=[]).issues == ["the draft is empty"]
    missed = critique(GOAL, draft, feedback=["Mention the on-call rota."], review_errors=["F821"])
    assert missed.issues == [
        'the reviewer feedback is not addressed: "Mention the on-call rota."',
        "the code review error F821 is not reported",
    ]


def test_tenant_agents_are_planned_by_their_role() -> None:
    analyst = AgentSpec(name="analyst", role="general", instructions="x", tools=("read_inputs",))
    scout = AgentSpec(name="scout", role="research", instructions="x", tools=("read_inputs",))

    proposal = plan_round(
        GOAL,
        [scout, analyst],
        round_number=1,
        first_stage=1,
        has_code=False,
        feedback=None,
        max_questions=3,
        steps_left=5,
    )

    assert [[s.agent for s in stage] for stage in proposal.stages] == [["scout", "scout"], ["analyst"]]
    assert proposal.stages[1][0].question == GOAL
