"""The agent registry (admins only), bad input (422/409 problem+json, nothing written), and tenant isolation on every
route."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from tests.integration.conftest import TenantKey, auth
from tests.integration.orchestrator.conftest import admin_key, create_task, interrupt, wait_for, wait_status

ANALYST = {
    "name": "risk-analyst",
    "role": "general",
    "instructions": "List the risks the inputs mention.",
    "tools": ["read_inputs"],
    "handoffs": ["writing"],
}


def register(client: TestClient, key: TenantKey, **changes: Any) -> Any:
    return client.post("/orchestrator/agents", json={**ANALYST, **changes}, headers=auth(key))


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_the_registry_validates_agents_and_lists_them_with_the_built_ins(
    client: TestClient, tenant_a: TenantKey
) -> None:
    # Given an agent that is valid, registered by an admin of tenant A
    admin = admin_key(tenant_a)
    created = register(client, admin)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/orchestrator/agents/risk-analyst"

    # Then it is listed after the built-ins, and readable by name
    listed = client.get("/orchestrator/agents", headers=auth(tenant_a)).json()
    assert [(a["name"], a["builtin"]) for a in listed] == [
        ("code_review", True),
        ("research", True),
        ("writing", True),
        ("risk-analyst", False),
    ]
    assert client.get("/orchestrator/agents/risk-analyst", headers=auth(tenant_a)).json()["tools"] == ["read_inputs"]

    # And every invalid registration is refused, naming the problem
    assert "unknown tool(s) shell" in problem(register(client, admin, name="a2", tools=["shell"]), 422)["detail"]
    assert (
        "unknown agent(s) nobody" in problem(register(client, admin, name="a3", handoffs=["nobody"]), 422)["detail"]
    )
    assert "itself" in problem(register(client, admin, name="a4", handoffs=["a4"]), 422)["detail"]
    assert "unknown model" in problem(register(client, admin, name="a5", model="gpt-17"), 422)["detail"]
    assert problem(register(client, admin, name="Bad Name"), 422)["detail"].startswith("agent name")
    problem(register(client, admin, name="a6", role="wizard"), 422)
    duplicate = problem(register(client, admin, instructions="other"), 409)
    assert duplicate["current"]["instructions"] == ANALYST["instructions"]
    assert problem(register(client, admin, name="research"), 409)["current"]["builtin"] is True
    assert problem(client.delete("/orchestrator/agents/writing", headers=auth(admin)), 409)
    assert len(client.get("/orchestrator/agents", headers=auth(tenant_a)).json()) == 4

    # And a registered agent can be deleted
    assert client.delete("/orchestrator/agents/risk-analyst", headers=auth(admin)).status_code == 204
    problem(client.get("/orchestrator/agents/risk-analyst", headers=auth(tenant_a)), 404)


def test_only_an_admin_key_registers_and_deletes_agents(client: TestClient, tenant_a: TenantKey) -> None:
    admin = admin_key(tenant_a)

    # When a member key tries to register an agent
    refused = problem(register(client, tenant_a), 403)

    # Then it is refused, saying so, and nothing was registered
    assert "admin" in refused["detail"]
    problem(client.get("/orchestrator/agents/risk-analyst", headers=auth(tenant_a)), 404)

    # When an admin key of the same tenant registers it, members use it but cannot delete it
    assert register(client, admin).status_code == 201
    assert client.get("/orchestrator/agents/risk-analyst", headers=auth(tenant_a)).status_code == 200
    problem(client.delete("/orchestrator/agents/risk-analyst", headers=auth(tenant_a)), 403)
    assert client.get("/orchestrator/agents/risk-analyst", headers=auth(tenant_a)).status_code == 200

    # And the admin deletes it
    assert client.delete("/orchestrator/agents/risk-analyst", headers=auth(admin)).status_code == 204
    problem(client.get("/orchestrator/agents/risk-analyst", headers=auth(tenant_a)), 404)


def test_bad_task_input_is_refused_and_starts_nothing(client: TestClient, tenant_a: TenantKey) -> None:
    def refused(body: dict[str, Any]) -> str:
        return str(problem(client.post("/orchestrator/tasks", json=body, headers=auth(tenant_a)), 422)["detail"])

    assert "unknown agent(s) ghost" in refused({"goal": "g", "agents": ["research", "ghost"]})
    assert "token_budget" in refused({"goal": "g", "options": {"token_budget": 0}})
    assert "token_budget" in refused({"goal": "g", "options": {"token_budget": -5}})
    assert "max_steps" in refused({"goal": "g", "options": {"max_steps": 0}})
    assert "fewer than the 3 agents" in refused({"goal": "g", "options": {"max_steps": 2}})
    assert "listed twice" in refused({"goal": "g", "agents": ["writing", "writing"]})
    assert "at least one agent" in refused({"goal": "g", "agents": []})
    assert "goal" in refused({"goal": "   "})
    assert "unique" in refused({"goal": "g", "inputs": [{"name": "a.md", "content": "x"}] * 2})
    assert client.get("/orchestrator/tasks", headers=auth(tenant_a)).json()["items"] == []


def test_a_tenant_agent_joins_a_team_and_does_its_work_offline(client: TestClient, tenant_a: TenantKey) -> None:
    # Given a registered general agent that reads the task's inputs
    assert register(client, admin_key(tenant_a)).status_code == 201

    # When it works on a task with the research agent
    created = create_task(
        client, tenant_a, goal="What are the risks of the canary stage?", agents=["research", "risk-analyst"]
    )
    task = wait_status(client, tenant_a, created["task_id"], "succeeded")

    # Then the result is its answer, taken from the input passage about risks
    assert task["result"]["agent"] == "risk-analyst"
    assert "slow detection of rare errors" in task["result"]["text"]


def test_another_tenants_task_and_agents_do_not_exist(
    client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey
) -> None:
    # Given tenant A has a custom agent and a task waiting for approval
    assert register(client, admin_key(tenant_a)).status_code == 201
    created = create_task(client, tenant_a, agents=["research", "writing"], options={"approvals": {"after_plan": True}})
    task_id = created["task_id"]
    wait_for(client, tenant_a, task_id, lambda t: t["status"] == "awaiting_approval", "awaiting approval")

    # Then for tenant B, every route on that task answers 404, and nothing about it leaks
    base = f"/orchestrator/tasks/{task_id}"
    for method, path in (("GET", base), ("GET", f"{base}/events"), ("GET", f"{base}/agents"), ("DELETE", base)):
        problem(client.request(method, path, headers=auth(tenant_b)), 404)
    for action in ("approve", "cancel", "pause"):
        problem(interrupt(client, tenant_b, task_id, action), 404)
    assert client.get("/orchestrator/tasks", headers=auth(tenant_b)).json()["items"] == []
    assert "risk-analyst" not in [a["name"] for a in client.get("/orchestrator/agents", headers=auth(tenant_b)).json()]
    problem(client.get("/orchestrator/agents/risk-analyst", headers=auth(tenant_b)), 404)
    problem(client.delete("/orchestrator/agents/risk-analyst", headers=auth(admin_key(tenant_b))), 404)
    refused = client.post("/orchestrator/tasks", json={"goal": "g", "agents": ["risk-analyst"]}, headers=auth(tenant_b))
    assert "unknown agent(s) risk-analyst" in problem(refused, 422)["detail"]
    assert client.get(base).status_code == 401

    # And B's attempt changed nothing: A's task still waits, and A can finish it, list it, then delete it
    assert client.get(base, headers=auth(tenant_a)).json()["status"] == "awaiting_approval"
    assert [t["task_id"] for t in client.get("/orchestrator/tasks", headers=auth(tenant_a)).json()["items"]] == [
        task_id
    ]
    problem(client.delete(base, headers=auth(tenant_a)), 409)
    assert interrupt(client, tenant_a, task_id, "cancel").status_code == 200
    assert client.delete(base, headers=auth(tenant_a)).status_code == 204
    problem(client.get(base, headers=auth(tenant_a)), 404)
    problem(client.get(f"{base}/events", headers=auth(tenant_a)), 404)


def test_list_pages_are_bound_to_their_tenant(client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey) -> None:
    # Given A has three tasks (cancelled at once: only the listing matters here)
    ids = []
    for number in range(3):
        task = create_task(client, tenant_a, goal=f"goal {number}", agents=["writing"])
        ids.append(task["task_id"])
        interrupt(client, tenant_a, task["task_id"], "cancel")

    # When A pages through them two at a time, newest first
    first = client.get("/orchestrator/tasks", params={"limit": 2}, headers=auth(tenant_a)).json()
    second = client.get(
        "/orchestrator/tasks", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(tenant_a)
    ).json()

    # Then every task appears once, and A's cursor means nothing to B
    assert [t["task_id"] for t in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next_cursor"] is None
    stolen = client.get("/orchestrator/tasks", params={"cursor": first["next_cursor"]}, headers=auth(tenant_b))
    assert json.loads(stolen.text)["status"] == 422
