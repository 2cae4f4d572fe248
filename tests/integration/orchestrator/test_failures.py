"""Agents that fail: Step Functions retries them, the Catch records why, the supervisor re-plans or ends the task."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from stratus.agents import Decision, Final, Turn, override_behaviour
from stratus.agents.specs import Role
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


class Exploding:
    """An agent whose every turn raises, as a bug or a broken dependency would."""

    def decide(self, turn: Turn) -> Decision:
        raise RuntimeError("search backend exploded")

    def conclude(self, turn: Turn, reason: str) -> Final:
        raise AssertionError("never reached")


@pytest.fixture
def break_role() -> Iterator[Callable[[Role], None]]:
    """Every agent of the given role explodes for as long as the test runs."""
    restores: list[Callable[[], None]] = []
    yield lambda role: restores.append(override_behaviour(role, Exploding))
    for restore in restores:
        restore()


def test_an_agent_that_raises_is_retried_then_caught_and_the_task_fails_with_the_reason(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, break_role: Callable[[Role], None]
) -> None:
    # Given research fails on every attempt, and writing needs its notes
    break_role("research")

    # When a task runs
    created = create_task(client, tenant_a, agents=["research", "writing"])
    task = wait_status(client, tenant_a, created["task_id"], "failed")

    # Then the task failed with a reason that says who failed, how often, why, and what it meant
    assert task["failure"] == (
        "research failed after 2 attempt(s): RuntimeError: search backend exploded; "
        "the writing has no research notes to work from"
    )
    research = next(output for output in task["outputs"] if output["agent"] == "research")
    assert research["status"] == "failed" and research["attempts"] == 2
    assert all(output["status"] == "pending" for output in task["outputs"] if output["agent"] == "writing")

    # And the trail shows both attempts, the catch, and the end; the execution failed too
    trail = events(client, tenant_a, created["task_id"])
    failed = [e for e in trail if e["type"] == "step.failed"]
    assert [e["data"]["attempt"] for e in failed] == [1, 2]
    assert types(trail)[-2:] == ["step.abandoned", "task.failed"]
    assert execution_status(aws, created["execution_arn"], lambda status: status != "RUNNING") == "FAILED"
    agents = client.get(f"/orchestrator/tasks/{created['task_id']}/agents", headers={"X-Api-Key": tenant_a.api_key})
    assert {a["name"]: a["state"] for a in agents.json()} == {"research": "failed", "writing": "idle"}


def test_the_supervisor_replans_without_an_agent_the_others_can_do_without(
    client: TestClient, tenant_a: TenantKey, break_role: Callable[[Role], None]
) -> None:
    # Given code review fails on every attempt
    break_role("code_review")

    # When the default team works on a task with code
    created = create_task(client, tenant_a)
    task = wait_status(client, tenant_a, created["task_id"], "succeeded")

    # Then the plan was revised without it, and the result still comes from research and writing
    revised = [e for e in events(client, tenant_a, created["task_id"]) if e["type"] == "plan.revised"]
    assert revised and revised[0]["data"]["dropped"] == ["r1-s1-code_review"]
    assert "RuntimeError: search backend exploded" in revised[0]["data"]["notes"][0]
    assert "within two minutes" in task["result"]["text"]


def test_an_approval_nobody_answers_times_out_and_fails_the_task(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, tenant_a: TenantKey
) -> None:
    # Given approvals time out after one second (a fresh container reads the setting)
    from stratus.cache import reset_containers

    monkeypatch.setenv("ORCHESTRATOR_APPROVAL_TIMEOUT_S", "1")
    reset_containers()
    try:
        # When nobody answers the plan's approval
        created = create_task(
            client, tenant_a, agents=["research", "writing"], options={"approvals": {"after_plan": True}}
        )
    finally:
        monkeypatch.undo()
        reset_containers()
    task = wait_status(client, tenant_a, created["task_id"], "failed")

    # Then the task is not left waiting forever: it failed, saying why
    assert task["failure"] == "no answer arrived at the approval checkpoint before its timeout"
    assert interrupt(client, tenant_a, created["task_id"], "approve").status_code == 409
    wait_for(client, tenant_a, created["task_id"], lambda t: t["waiting"] is None, "no longer waiting")
