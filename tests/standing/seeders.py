"""Per-service seeders for the isolation matrix: tenant A's resources, made through the public HTTP API only.

A seeder gets a client and tenant A, creates one of each resource its service has, and returns a ``Seed``: the
value of every path parameter of the service's routes, the request bodies its write routes need (so that another
tenant is refused for the id, never for a malformed body), and a canary string that sits in A's data and must never
show up in another tenant's response. Register a new service's seeder in ``SEEDERS`` under its name; the matrix
fails for any template route whose path parameters no seeder provides.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws

from .conftest import Tenant


@dataclass(frozen=True)
class SeedContext:
    client: TestClient
    tenant: Tenant
    aws: EmbeddedAws
    github: Any  # tests.integration.codereview.fake_github.FakeGitHub: the GitHub the stack talks to


@dataclass
class Seed:
    params: dict[str, str]
    bodies: dict[str, Any] = field(default_factory=dict)  # "POST /path/{id}/..." -> JSON body
    canary: str = ""
    # Routes whose parameter is a name inside the caller's tenant, not a reference to A's resource: the other
    # tenant is not refused there, so the seeder says what its answer must be instead of 404.
    same_name_elsewhere: dict[str, Callable[[Any], bool]] = field(default_factory=dict)
    keep_open: list[ExitStack] = field(default_factory=list)  # what lives as long as the seed (a subscription)


@dataclass(frozen=True)
class Seeder:
    provides: tuple[str, ...]  # path parameters whose values the seed returns, declared for the static check
    seed: Callable[[SeedContext], Seed]


def canary() -> str:
    return f"canary-{uuid.uuid4().hex[:12]}"


def _ok(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201, 202)), f"{response.request.url}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def seed_docqa(ctx: SeedContext) -> Seed:
    mark = canary()
    headers = ctx.tenant.headers
    created = _ok(
        ctx.client.post(
            "/docqa/documents",
            headers=headers,
            json={"filename": f"{mark}.pdf", "content_type": "application/pdf", "size_bytes": 1024},
        )
    )
    answered = _ok(ctx.client.post("/docqa/query", headers=headers, json={"question": f"What does {mark} mean?"}))
    return Seed({"document_id": created["document"]["id"], "conversation_id": answered["conversation_id"]}, canary=mark)


def seed_orchestrator(ctx: SeedContext) -> Seed:
    mark = canary()
    headers = ctx.tenant.headers
    agent = _ok(
        ctx.client.post(
            "/orchestrator/agents",
            headers=headers,
            json={"name": f"agent-{mark[-8:]}", "role": "research", "instructions": f"Answer as {mark}."},
        )
    )
    task = _ok(
        ctx.client.post(
            "/orchestrator/tasks",
            headers=headers,
            json={"goal": f"Summarise {mark}.", "options": {"approvals": {"after_plan": True}}},
        )
    )
    # Wait for the approval checkpoint, so A's task holds still while the matrix compares it.
    deadline = time.monotonic() + 60
    status = task["status"]
    while status != "awaiting_approval" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = _ok(ctx.client.get(f"/orchestrator/tasks/{task['task_id']}", headers=headers))["status"]
    assert status == "awaiting_approval", f"orchestrator seed task ended {status}"
    return Seed(
        {"task_id": task["task_id"], "name": agent["name"]},
        bodies={"POST /orchestrator/tasks/{task_id}/interrupt": {"action": "cancel"}},
        canary=mark,
    )


def seed_analyst(ctx: SeedContext) -> Seed:
    mark = canary()
    headers = ctx.tenant.headers
    database = _ok(ctx.client.post("/analyst/databases/connect", headers=headers, json={"kind": "sample"}))
    session = _ok(
        ctx.client.post(
            "/analyst/sessions", headers=headers, json={"database_id": database["database_id"], "title": mark}
        )
    )
    answered = _ok(
        ctx.client.post(
            f"/analyst/sessions/{session['session_id']}/query",
            headers=headers,
            json={"question": "How many invoices are there per billing country?"},
        )
    )
    return Seed(
        {
            "database_id": database["database_id"],
            "session_id": session["session_id"],
            "query_id": answered["query_id"],
        },
        bodies={
            "POST /analyst/sessions/{session_id}/query": {"question": "How many albums are there?"},
            "POST /analyst/sessions/{session_id}/visualize": {"query_id": answered["query_id"]},
        },
        canary=mark,
    )


def seed_codereview(ctx: SeedContext) -> Seed:
    from tests.integration.codereview.conftest import Tenant as ReviewTenant
    from tests.integration.codereview.conftest import deliver, pull_request_payload, register_repository, settle

    # Tenant A's key is an admin key: it serves as both keys the codereview helpers expect.
    tenant = ReviewTenant(tenant_id=ctx.tenant.tenant_id, api_key=ctx.tenant.api_key, admin_key=ctx.tenant.api_key)
    mark = canary()
    hooked = register_repository(ctx.client, ctx.github, tenant, name=f"{mark}/service")
    # Hold mode: the review waits for approval, so another tenant's approve would show as a change of state.
    _ok(
        ctx.client.post(
            "/codereview/settings/rules", headers=tenant.headers, json={"repository": hooked.full_name, "mode": "hold"}
        )
    )
    pull = hooked.repo.open_pull(7, {"m.py": "v = 1\n"}, {"m.py": "v = 1\n\n\ndef f(x=[]):\n    return x\n"})
    _ok(deliver(ctx.client, hooked, "pull_request", pull_request_payload("opened", pull)))
    settle(ctx.aws)
    return Seed({"registration_id": f"repo-{hooked.repo.id}", "pr_id": str(pull.id)}, canary=mark)


def _delivered_to_no_one(response: Any) -> bool:
    delivered: int = response.json()["delivered"] if response.status_code == 202 else -1
    return delivered == 0


def seed_realtime(ctx: SeedContext) -> Seed:
    topic = f"builds-{uuid.uuid4().hex[:8]}"
    publish = "POST /realtime/topics/{topic}/messages"
    # A subscribes over the WebSocket and stays subscribed; A's own publish reaches it, so the subscription is live.
    with ExitStack() as resources:
        subscription = resources.enter_context(ctx.client.websocket_connect(f"/ws?auth={ctx.tenant.api_key}"))
        subscription.send_json({"action": "subscribe", "topic": topic})
        assert subscription.receive_json() == {"type": "subscribed", "topic": topic}
        probe = {"probe": canary()}
        own = _ok(
            ctx.client.post(f"/realtime/topics/{topic}/messages", headers=ctx.tenant.headers, json={"data": probe})
        )
        assert own["delivered"] == 1 and subscription.receive_json()["data"] == probe
        # A topic is a name inside the caller's tenant: B publishing to A's topic name reaches none of A's sockets.
        return Seed(
            {"topic": topic},
            bodies={publish: {"data": {"build": 42}}},
            same_name_elsewhere={publish: _delivered_to_no_one},
            keep_open=[resources.pop_all()],
        )
    raise AssertionError("unreachable")


def seed_platform(ctx: SeedContext) -> Seed:
    mark = canary()
    headers = ctx.tenant.headers
    key = _ok(ctx.client.post("/platform/keys", headers=headers, json={"name": mark}))
    agent = _ok(ctx.client.post("/platform/agents", headers=headers, json={"name": mark, "system_prompt": mark}))
    _ok(ctx.client.post(f"/platform/agents/{agent['id']}/deploy", headers=headers))
    run = _ok(ctx.client.post(f"/platform/agents/{agent['id']}/run", headers=headers, json={"input": mark}))
    # A member who joined by invitation, and an invitation still pending.
    invited = _ok(ctx.client.post("/platform/invitations", headers=headers, json={"email": f"{mark}@example.com"}))
    member = _ok(
        ctx.client.post(
            "/platform/invitations/accept", json={"token": invited["token"], "password": "correct horse battery"}
        )
    )
    pending = _ok(ctx.client.post("/platform/invitations", headers=headers, json={"email": f"p-{mark}@example.com"}))
    return Seed(
        {
            "key_id": key["key_id"],
            "agent_id": agent["id"],
            "run_id": run["id"],
            "user_id": member["user_id"],
            "invitation_id": pending["id"],
        },
        bodies={
            "PUT /platform/users/{user_id}/roles": {"roles": ["reader"]},
            "PUT /platform/agents/{agent_id}": {"name": "renamed by another tenant"},
            "POST /platform/agents/{agent_id}/rollback": {"version": 1},
            "POST /platform/agents/{agent_id}/run": {"input": "hello"},
        },
        canary=mark,
    )


SEEDERS: dict[str, Seeder] = {
    "docqa": Seeder(("document_id", "conversation_id"), seed_docqa),
    "orchestrator": Seeder(("task_id", "name"), seed_orchestrator),
    "analyst": Seeder(("database_id", "session_id", "query_id"), seed_analyst),
    "codereview": Seeder(("registration_id", "pr_id"), seed_codereview),
    "realtime": Seeder(("topic",), seed_realtime),
    "platform": Seeder(("key_id", "agent_id", "run_id", "user_id", "invitation_id"), seed_platform),
}
