"""Analyst integration fixtures: the Chinook sample in place, a connected database and a session.

Connecting, uploading and deleting databases is for admins, so here ``tenant_a`` and ``tenant_b`` hold admin keys
of their tenants; ``member_a`` is an ordinary member of tenant A.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.conftest import TenantKey, auth
from tests.unit.analyst.chinook import chinook_sample


@pytest.fixture(scope="session")
def sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chinook_sample(tmp_path_factory.mktemp("chinook"))


@pytest.fixture(autouse=True)
def analyst_environment(monkeypatch: pytest.MonkeyPatch, sample_path: Path, tmp_path: Path) -> Iterator[None]:
    """Set before the embedded AWS starts, so the analyst's settings see them."""
    monkeypatch.setenv("ANALYST_SAMPLE_DATABASE", str(sample_path))
    monkeypatch.setenv("ANALYST_WORK_DIR", str(tmp_path / "analyst-work"))
    yield


def _key(tenant_id: str, user_id: str, role: str) -> TenantKey:
    from stratus.identity import get_identity_service

    service = get_identity_service()
    service.ensure_tenant(tenant_id)
    _, key = service.issue_api_key(tenant_id, user_id, roles=(role,))
    return TenantKey(tenant_id, key)


@pytest.fixture
def tenant_a(aws: EmbeddedAws) -> TenantKey:
    return _key("tenant-a", "alice", "admin")


@pytest.fixture
def tenant_b(aws: EmbeddedAws) -> TenantKey:
    return _key("tenant-b", "bob", "admin")


@pytest.fixture
def member_a(aws: EmbeddedAws) -> TenantKey:
    return _key("tenant-a", "carol", "member")


def connect_sample(client: TestClient, key: TenantKey, **extra: Any) -> dict[str, Any]:
    response = client.post("/analyst/databases/connect", json={"kind": "sample", **extra}, headers=auth(key))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def open_session(client: TestClient, key: TenantKey, database_id: str) -> str:
    response = client.post("/analyst/sessions", json={"database_id": database_id}, headers=auth(key))
    assert response.status_code == 201, response.text
    session_id: str = response.json()["session_id"]
    return session_id


def ask(client: TestClient, key: TenantKey, session_id: str, **body: Any) -> Any:
    return client.post(f"/analyst/sessions/{session_id}/query", json=body, headers=auth(key))
