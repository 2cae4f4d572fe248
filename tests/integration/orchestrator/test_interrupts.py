"""Pause and resume at step boundaries, approval checkpoints on task tokens, and cancel, on the real state machine."""

from __future__ import annotations

from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.conftest import TenantKey
from tests.integration.orchestrator.conftest import (
    create_task,
    events,
    execution_status,
    interrupt,
    types,
    wait_for,
    wait_status,
)

SMALL_TEAM = ["research", "writing"]


def awaiting(checkpoint: str, round_number: int) -> object:
    return lambda task: (
        task["status"] == "awaiting_approval"
        and task["waiting"]["checkpoint"] == checkpoint
        and task["round"] == round_number
    )


def test_pause_holds_at_the_next_step_boundary_until_resume(client: TestClient, tenant_a: TenantKey) -> None:
    # Given a running task
    created = create_task(client, tenant_a, agents=SMALL_TEAM)
    task_id = created["task_id"]

    # When it is paused
    paused = interrupt(client, tenant_a, task_id, "pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["pause_requested"] is True

    # Then it holds at a step boundary on a task token, with no step running
    task = wait_status(client, tenant_a, task_id, "paused")
    assert task["waiting"]["kind"] == "pause"
    assert all(output["status"] in ("pending", "succeeded") for output in task["outputs"])
    assert interrupt(client, tenant_a, task_id, "pause").status_code == 409

    # When it is resumed, it runs to the end; resuming a running task is a conflict showing its state
    resumed = interrupt(client, tenant_a, task_id, "resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    again = interrupt(client, tenant_a, task_id, "resume")
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["current"]["status"] in ("running", "succeeded")
    wait_status(client, tenant_a, task_id, "succeeded")

    # And the trail shows the pause taking effect between steps: nothing started while it was paused
    trail = types(events(client, tenant_a, task_id))
    paused_at, resumed_at = trail.index("task.paused"), trail.index("task.resumed")
    assert trail.index("task.pause_requested") < paused_at < resumed_at
    assert "step.started" not in trail[paused_at:resumed_at]
    assert "step.started" in trail[resumed_at:]


def test_approval_checkpoints_reject_with_feedback_sends_the_work_back_for_another_round(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey
) -> None:
    # Given a task that waits for approval after planning and before finishing
    created = create_task(
        client,
        tenant_a,
        goal="Explain how the deployment pipeline rolls back a bad release.",
        agents=SMALL_TEAM,
        options={"approvals": {"after_plan": True, "before_final": True}},
    )
    task_id = created["task_id"]
    task = wait_for(client, tenant_a, task_id, awaiting("after_plan", 1), "awaiting the plan's approval")
    assert [output["status"] for output in task["outputs"]] == ["pending", "pending"]
    assert "step.started" not in types(events(client, tenant_a, task_id))

    # When the plan is rejected with feedback, the supervisor plans round 2 with it and asks again
    assert interrupt(client, tenant_a, task_id, "reject").status_code == 422  # feedback is required
    wrong = interrupt(client, tenant_a, task_id, "approve", checkpoint="before_final")
    assert wrong.status_code == 409 and wrong.json()["current"]["waiting"]["checkpoint"] == "after_plan"
    rejected = interrupt(client, tenant_a, task_id, "reject", feedback="Also cover the canary traffic share.")
    assert rejected.status_code == 200, rejected.text
    task = wait_for(client, tenant_a, task_id, awaiting("after_plan", 2), "awaiting the re-plan's approval")
    round_two = [output for output in task["outputs"] if output["round"] == 2]
    assert any("canary traffic share" in output["question"] for output in round_two)

    # When the re-plan is approved, the agents run, and the result waits for approval
    assert interrupt(client, tenant_a, task_id, "approve").status_code == 200
    task = wait_for(client, tenant_a, task_id, awaiting("before_final", 2), "awaiting the result's approval")

    # When the result is rejected with feedback, a third round researches and addresses it
    rejected = interrupt(client, tenant_a, task_id, "reject", feedback="Say how long a rollback takes.")
    assert rejected.status_code == 200, rejected.text
    task = wait_for(client, tenant_a, task_id, awaiting("before_final", 3), "awaiting the revision's approval")
    assert interrupt(client, tenant_a, task_id, "approve").status_code == 200
    task = wait_status(client, tenant_a, task_id, "succeeded")

    # Then the result is round 3's revision, which answers the feedback from the sources
    assert task["result"]["round"] == 3
    feedback_section = task["result"]["text"].split("## Feedback addressed", 1)[1]
    assert '"Say how long a rollback takes."' in feedback_section and "within two minutes" in feedback_section
    assert "5% of traffic" in task["result"]["text"]
    decisions = [e["data"] for e in events(client, tenant_a, task_id) if e["type"].startswith("checkpoint.")]
    assert [(d.get("checkpoint"), d.get("decision")) for d in decisions if "decision" in d] == [
        ("after_plan", "rejected"),
        ("after_plan", "approved"),
        ("before_final", "rejected"),
        ("before_final", "approved"),
    ]
    # And approving when nothing awaits is a conflict
    late = interrupt(client, tenant_a, task_id, "approve")
    assert late.status_code == 409 and late.json()["current"]["status"] == "succeeded"
    assert execution_status(aws, task["execution_arn"], lambda status: status != "RUNNING") == "SUCCEEDED"


def test_cancel_ends_an_execution_that_waits_on_a_task_token(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey
) -> None:
    # Given a task waiting at its plan approval (Step Functions' StopExecution alone does not end this wait here)
    created = create_task(client, tenant_a, agents=SMALL_TEAM, options={"approvals": {"after_plan": True}})
    task_id = created["task_id"]
    wait_for(client, tenant_a, task_id, awaiting("after_plan", 1), "awaiting approval")

    # When it is cancelled
    cancelled = interrupt(client, tenant_a, task_id, "cancel")

    # Then it is cancelled at once, the execution really ends, and no agent ever ran
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert execution_status(aws, created["execution_arn"], lambda status: status != "RUNNING") != "RUNNING"
    task = wait_status(client, tenant_a, task_id, "cancelled")
    assert task["waiting"] is None and task["finished_at"] is not None
    assert "step.started" not in types(events(client, tenant_a, task_id))
    assert interrupt(client, tenant_a, task_id, "resume").status_code == 409
    assert interrupt(client, tenant_a, task_id, "cancel").status_code == 409


def test_cancel_stops_a_task_whose_agents_are_working(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey
) -> None:
    # Given a task that has just started
    created = create_task(client, tenant_a)

    # When it is cancelled straight away
    assert interrupt(client, tenant_a, created["task_id"], "cancel").status_code == 200

    # Then the execution ends at the next step boundary (or inside the step), and nothing finishes it afterwards
    assert execution_status(aws, created["execution_arn"], lambda status: status != "RUNNING") != "RUNNING"
    task = wait_status(client, tenant_a, created["task_id"], "cancelled")
    assert all(output["status"] != "running" for output in task["outputs"])
    trail = types(events(client, tenant_a, created["task_id"]))
    assert trail.count("task.cancelled") == 1 and "task.succeeded" not in trail
