"""The codereview service on the embedded AWS, talking to a fake GitHub over real HTTP.

One embedded AWS and one fake GitHub for the whole package (starting moto is the slow part); every test
works in its own tenant and repository, so tests never see each other's data.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.github.webhooks import sign_payload
from stratus.local.embedded import EmbeddedAws
from stratus.local.template import REPO_ROOT
from tests.integration.codereview.fake_github import FakeGitHub, FakePull, FakeRepo

DATA = REPO_ROOT.parent / "shared" / "data" / "github-webhooks"
_repo_ids = itertools.count(500_000_001)


def github_data(relative: str) -> Path:
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"GitHub's example payloads are not at {DATA} (see the issue: ../shared/data)")
    return path


def example_payload(event: str, name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(github_data(f"payloads/{event}/{name}").read_text())
    return payload


@pytest.fixture(scope="package")
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="package")
def aws(github: FakeGitHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedAws]:
    environment = {
        "EMBEDDING_PROVIDER": "hash",
        "SEARCH_BACKEND": "embedded",
        "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("search")),
        **github.service_environment(),
    }
    with EmbeddedAws(environment=environment) as embedded:
        yield embedded


@pytest.fixture(scope="package")
def client(aws: EmbeddedAws) -> Iterator[TestClient]:
    from stratus.local.devserver import build_gateway

    with TestClient(build_gateway(aws.template)) as test_client:
        yield test_client


@dataclass
class Tenant:
    """A tenant with a member key (reviews, analytics) and an admin key (registrations, rules)."""

    tenant_id: str
    api_key: str
    admin_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.api_key}

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.admin_key}


def new_tenant(prefix: str = "t") -> Tenant:
    from stratus.identity import get_identity_service

    tenant_id = f"{prefix}-{uuid.uuid4().hex[:10]}"
    service = get_identity_service()
    service.ensure_tenant(tenant_id)
    _, key = service.issue_api_key(tenant_id, "reviewer", roles=("member",))
    _, admin_key = service.issue_api_key(tenant_id, "maintainer", roles=("admin",))
    return Tenant(tenant_id, key, admin_key)


@pytest.fixture
def tenant(aws: EmbeddedAws) -> Tenant:
    return new_tenant()


@dataclass
class Hooked:
    """A tenant's repository, registered with a webhook secret, on the fake GitHub."""

    tenant: Tenant
    repo: FakeRepo
    secret: str
    token: str

    @property
    def full_name(self) -> str:
        return self.repo.full_name


def register_repository(client: TestClient, github: FakeGitHub, tenant: Tenant, name: str | None = None) -> Hooked:
    repo_id = next(_repo_ids)
    repo = github.add_repository(name or f"octo-{repo_id}/service", repo_id)
    token = github.add_token(f"ghp_{uuid.uuid4().hex}")
    secret = f"whsec-{uuid.uuid4().hex}"
    response = client.post(
        "/codereview/installations",
        headers=tenant.admin_headers,
        json={
            "kind": "repository",
            "repository": repo.full_name,
            "repository_id": repo_id,
            "webhook_secret": secret,
            "github_token": token,
        },
    )
    assert response.status_code == 201, response.text
    return Hooked(tenant, repo, secret, token)


def pull_request_payload(
    action: str, pull: FakePull, *, before: str | None = None, installation_id: int | None = None
) -> dict[str, Any]:
    """GitHub's own example delivery, re-pointed at the fake repository and pull request."""
    name = {
        "opened": "opened.payload.json",
        "synchronize": "synchronize.payload.json",
        "closed": "closed.payload.json",
        "reopened": "reopened.payload.json",
        "ready_for_review": "ready_for_review.payload.json",
    }[action]
    payload = copy.deepcopy(example_payload("pull_request", name))
    retarget(payload, pull, installation_id)
    payload["pull_request"]["state"] = "closed" if action == "closed" else "open"
    payload["pull_request"]["merged"] = pull.merged if action == "closed" else False
    payload["pull_request"]["draft"] = False
    if action == "synchronize":
        payload["before"], payload["after"] = before or pull.commits[-2].sha, pull.head.sha
    return payload


def retarget(payload: dict[str, Any], pull: FakePull, installation_id: int | None = None) -> None:
    """Point one of GitHub's example payloads at a fake repository and pull request."""
    payload["repository"]["id"] = pull.repo.id
    payload["repository"]["full_name"] = pull.repo.full_name
    payload["repository"]["name"] = pull.repo.full_name.split("/")[1]
    payload.pop("installation", None)
    if installation_id is not None:
        payload["installation"] = {"id": installation_id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    if "pull_request" in payload:
        pr = payload["pull_request"]
        pr["id"], pr["number"], pr["title"] = pull.id, pull.number, pull.title
        pr["head"]["sha"], pr["base"]["sha"] = pull.head.sha, pull.base.sha


def deliver(
    client: TestClient,
    hooked: Hooked,
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    delivery_id: str | None = None,
    secret: str | None = None,
    signature: str | None = None,
    target: tuple[str, str] | None = None,
) -> Any:
    """POST a delivery exactly as GitHub does: raw JSON body, signature and delivery headers."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "292430182",
        "X-GitHub-Hook-Installation-Target-Type": (target or ("repository", str(hooked.repo.id)))[0],
        "X-GitHub-Hook-Installation-Target-ID": (target or ("repository", str(hooked.repo.id)))[1],
    }
    if signature is None:
        signature = sign_payload(secret or hooked.secret, body)
    if signature:
        headers["X-Hub-Signature-256"] = signature
    return client.post("/codereview/webhooks/github", content=body, headers=headers)


def settle(aws: EmbeddedAws, timeout_s: float = 60.0) -> None:
    """Drain the delivery queue, then wait until no review execution is running."""
    aws.drain_queues()
    sfn = aws.client("stepfunctions")
    machine = str(aws.template.ref("CodeReviewStateMachine"))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
        if not running:
            aws.drain_queues()
            return
        time.sleep(0.1)
    raise AssertionError(f"review executions still running after {timeout_s} s")


def review_detail(client: TestClient, tenant: Tenant, pr_id: int) -> dict[str, Any]:
    response = client.get(f"/codereview/reviews/{pr_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail
