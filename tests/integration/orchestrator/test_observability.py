"""The step Lambdas emit their metrics: an agent step's model tokens and cost reach CloudWatch as EMF."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.integration.conftest import TenantKey, auth, emf_metrics
from tests.integration.orchestrator.conftest import create_task, wait_status


def test_agent_steps_emit_their_token_and_cost_metrics(
    client: TestClient, tenant_a: TenantKey, emitted_metrics: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.steps.agent import handler
    from stratus.local.lambda_dispatch import LocalLambdaContext

    # Given a planned task that waits for approval of its plan: its steps exist and none has run
    created = create_task(client, tenant_a, agents=["research", "writing"], options={"approvals": {"after_plan": True}})
    task = wait_status(client, tenant_a, created["task_id"], "awaiting_approval")
    capsys.readouterr()

    # When the agent Lambda runs each planned step in order, as the state machine's AgentStep state invokes it
    results = [
        handler(
            {"tenant_id": tenant_a.tenant_id, "task_id": task["task_id"], "step_id": step["step_id"], "attempt": 0},
            LocalLambdaContext(),
        )
        for step in sorted(task["outputs"], key=lambda output: output["stage"])
    ]

    # Then the invocations printed the steps' model tokens and cost as EMF, matching the usage the task records
    assert [result["status"] for result in results] == ["succeeded"] * len(results)
    emitted = emf_metrics(capsys.readouterr().out)
    agents = client.get(f"/orchestrator/tasks/{task['task_id']}/agents", headers=auth(tenant_a)).json()
    input_tokens = sum(agent["usage"]["input_tokens"] for agent in agents)
    assert input_tokens > 0
    assert sum(emitted["ModelInputTokens"]) == input_tokens
    assert len(emitted["ModelCostUSD"]) == sum(agent["usage"]["model_calls"] for agent in agents)
