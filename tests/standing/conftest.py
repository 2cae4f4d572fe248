"""The embedded stack the standing checks run on: every resource of template.yaml, the dev gateway, real tenants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.codereview.fake_github import FakeGitHub

from .template_routes import template


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.api_key}


def issue_tenant(tenant_id: str, user_id: str) -> Tenant:
    """A tenant and an admin API key for it, issued as `make dev` issues its own (the management routes need admin)."""
    from stratus.identity import get_identity_service

    identity = get_identity_service()
    identity.ensure_tenant(tenant_id)
    _, key = identity.issue_api_key(tenant_id, user_id, roles=("admin",), name="standing checks")
    return Tenant(tenant_id, key)


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    """The GitHub the stack talks to: a fake over real HTTP, so a review never waits on the internet."""
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, github: FakeGitHub) -> Iterator[EmbeddedAws]:
    """One embedded AWS per module: starting one costs seconds, and the checks only add data."""
    environment = {
        "EMBEDDING_PROVIDER": "hash",
        "SEARCH_BACKEND": "embedded",
        "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("search")),
        **github.service_environment(),
    }
    with EmbeddedAws(template(), environment=environment) as aws:
        yield aws


@pytest.fixture(scope="module")
def gateway(stack: EmbeddedAws) -> object:
    """The dev gateway: template routes -> the real FastAPI apps, as API Gateway routes them on AWS."""
    from stratus.local.devserver import build_gateway

    return build_gateway(stack.template)


@pytest.fixture(scope="module")
def client(gateway: object) -> Iterator[TestClient]:
    with TestClient(gateway) as test_client:  # type: ignore[arg-type]
        yield test_client
