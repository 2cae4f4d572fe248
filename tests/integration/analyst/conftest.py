"""Analyst integration fixtures: the Chinook sample in place, a connected database and a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

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
