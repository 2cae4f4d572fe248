"""Platform tests on the embedded AWS: one stack for the package, a fresh account (tenant) per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws

PASSWORD = "correct horse battery staple"
# Cheap argon2id costs for tests (the cost itself is measured by bench/platform.py), and a quick lockout.
ENVIRONMENT = {
    "EMBEDDING_PROVIDER": "hash",
    "SEARCH_BACKEND": "embedded",
    "PLATFORM_PASSWORD_TIME_COST": "1",
    "PLATFORM_PASSWORD_MEMORY_KIB": "1024",
    "PLATFORM_PASSWORD_PARALLELISM": "1",
    "PLATFORM_LOGIN_BACKOFF_AFTER": "3",
    "PLATFORM_LOGIN_BACKOFF_BASE_S": "30",
    "PLATFORM_LOGIN_LOCKOUT_AFTER": "5",
    "PLATFORM_LOGIN_LOCKOUT_S": "600",
    "PLATFORM_REFRESH_REUSE_GRACE_S": "0",  # replays in these tests come at once; the grace has its own test
}


@pytest.fixture(scope="package")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedAws]:
    environment = {**ENVIRONMENT, "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("search"))}
    with EmbeddedAws(environment=environment) as embedded:
        yield embedded


@pytest.fixture(scope="package")
def client(aws: EmbeddedAws) -> Iterator[TestClient]:
    from stratus.local.devserver import build_gateway

    with TestClient(build_gateway(aws.template)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Account:
    email: str
    tenant_id: str
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def new_email() -> str:
    return f"user-{secrets.token_hex(4)}@example.com"


def register(client: TestClient, email: str | None = None, tenant_name: str = "Acme Corp") -> Account:
    email = email or new_email()
    response = client.post(
        "/platform/auth/register", json={"email": email, "password": PASSWORD, "tenant_name": tenant_name}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(email, body["tenant_id"], body["user_id"], body["access_token"], body["refresh_token"])


@pytest.fixture
def account(client: TestClient) -> Account:
    return register(client)


@pytest.fixture
def other_account(client: TestClient) -> Account:
    return register(client, tenant_name="Globex")


def create_agent(client: TestClient, headers: dict[str, str], **config: Any) -> dict[str, Any]:
    body = {"name": "support triage", "system_prompt": "Answer in one sentence.", **config}
    response = client.post("/platform/agents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    agent: dict[str, Any] = response.json()
    return agent


def deploy(client: TestClient, headers: dict[str, str], agent_id: str) -> dict[str, Any]:
    response = client.post(f"/platform/agents/{agent_id}/deploy", headers=headers)
    assert response.status_code == 201, response.text
    deployment: dict[str, Any] = response.json()
    return deployment
