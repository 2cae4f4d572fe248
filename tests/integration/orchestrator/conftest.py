"""Helpers for the orchestrator's tests on the embedded AWS: the real state machine, executed by moto."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.conftest import TenantKey, auth

TERMINAL = ("succeeded", "failed", "cancelled")
DEADLINE_S = 60.0

PIPELINE_NOTES = (
    "Deployments go through a canary stage first. The canary receives 5% of traffic for 30 minutes.\n\n"
    "Rollbacks are automatic: when the error rate of the canary exceeds 1%, the pipeline rolls back to the "
    "previous version within two minutes.\n\n"
    "Risks of the canary stage include slow detection of rare errors and user impact on the 5% cohort."
)
BUGGY_CODE = "```python\nimport os\n\ndef rollback(version):\n    return previous_version\n```"


@pytest.fixture(scope="package")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedAws]:
    """One embedded AWS for these tests (starting one costs seconds); each test gets tenants of its own."""
    environment = {
        "EMBEDDING_PROVIDER": "hash",
        "SEARCH_BACKEND": "embedded",
        "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("search")),
    }
    with EmbeddedAws(environment=environment) as embedded:
        yield embedded


@pytest.fixture(scope="package")
def client(aws: EmbeddedAws) -> Iterator[TestClient]:
    from stratus.local.devserver import build_gateway

    with TestClient(build_gateway(aws.template)) as test_client:
        yield test_client


def _tenant(prefix: str, user: str) -> TenantKey:
    from stratus.identity import get_identity_service

    tenant_id = f"{prefix}-{secrets.token_hex(4)}"
    service = get_identity_service()
    service.ensure_tenant(tenant_id)
    _, key = service.issue_api_key(tenant_id, user, roles=("member",))
    return TenantKey(tenant_id, key)


def admin_key(tenant: TenantKey, user: str = "admin") -> TenantKey:
    """An admin key of the same tenant: agent registration and deletion need one."""
    from stratus.identity import get_identity_service

    _, key = get_identity_service().issue_api_key(tenant.tenant_id, user, roles=("admin",))
    return TenantKey(tenant.tenant_id, key)


@pytest.fixture
def tenant_a(aws: EmbeddedAws) -> TenantKey:
    return _tenant("tenant-a", "alice")


@pytest.fixture
def tenant_b(aws: EmbeddedAws) -> TenantKey:
    return _tenant("tenant-b", "bob")


@pytest.fixture(autouse=True)
def no_execution_outlives_its_test(aws: EmbeddedAws) -> Iterator[None]:
    """Executions run in moto's threads: end the ones a test left waiting, before its embedded AWS goes away."""
    yield
    from orchestrator.wiring import get_token_store

    stepfunctions = aws.client("stepfunctions")
    machine = aws.template.ref("OrchestratorStateMachine")

    def running() -> list[str]:
        listed = stepfunctions.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
        return [str(execution["executionArn"]) for execution in listed]

    for arn in running():
        payload = json.loads(stepfunctions.describe_execution(executionArn=arn)["input"])
        waiting = get_token_store().take(payload["tenant_id"], payload["task_id"])
        if waiting is not None:
            stepfunctions.send_task_failure(taskToken=waiting.token, error="TaskCancelled", cause="test ended")
        stepfunctions.stop_execution(executionArn=arn)
    deadline = time.monotonic() + 15
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)


def create_task(client: TestClient, key: TenantKey, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "goal": f"Explain how the deployment pipeline rolls back a bad release.\n{BUGGY_CODE}",
        "inputs": [{"name": "pipeline.md", "content": PIPELINE_NOTES}],
    }
    body.update(overrides)
    response = client.post("/orchestrator/tasks", json=body, headers=auth(key))
    assert response.status_code == 202, response.text
    task: dict[str, Any] = response.json()
    return task


def get_task(client: TestClient, key: TenantKey, task_id: str) -> dict[str, Any]:
    response = client.get(f"/orchestrator/tasks/{task_id}", headers=auth(key))
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


def wait_for(
    client: TestClient,
    key: TenantKey,
    task_id: str,
    until: Callable[[dict[str, Any]], bool],
    what: str,
    deadline_s: float = DEADLINE_S,
) -> dict[str, Any]:
    """Poll the task until ``until`` holds; fail with the last state seen when the deadline passes."""
    deadline = time.monotonic() + deadline_s
    task = get_task(client, key, task_id)
    while not until(task):
        if task["status"] in TERMINAL:
            raise AssertionError(f"task ended {task['status']} ({task['failure']}), never {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"task never became {what}: {json.dumps(task, indent=1)[:3000]}")
        time.sleep(0.1)
        task = get_task(client, key, task_id)
    return task


def wait_status(client: TestClient, key: TenantKey, task_id: str, status: str) -> dict[str, Any]:
    return wait_for(client, key, task_id, lambda t: t["status"] == status, status)


def events(client: TestClient, key: TenantKey, task_id: str, after: int = 0) -> list[dict[str, Any]]:
    response = client.get(
        f"/orchestrator/tasks/{task_id}/events", params={"after": after, "limit": 500}, headers=auth(key)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def interrupt(client: TestClient, key: TenantKey, task_id: str, action: str, **body: Any) -> Any:
    return client.post(f"/orchestrator/tasks/{task_id}/interrupt", json={"action": action, **body}, headers=auth(key))


def execution_status(aws: EmbeddedAws, execution_arn: str, until: Callable[[str], bool]) -> str:
    """The execution's status once ``until`` holds (the last state's Lambda returns before the execution ends)."""
    stepfunctions = aws.client("stepfunctions")
    deadline = time.monotonic() + 10
    status = str(stepfunctions.describe_execution(executionArn=execution_arn)["status"])
    while not until(status) and time.monotonic() < deadline:
        time.sleep(0.05)
        status = str(stepfunctions.describe_execution(executionArn=execution_arn)["status"])
    return status


def types(items: list[dict[str, Any]]) -> list[str]:
    return [item["type"] for item in items]
