"""The embedded AWS, in-process: every resource of template.yaml on moto, handlers dispatched for real."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[EmbeddedAws]:
    environment = {
        "EMBEDDING_PROVIDER": "hash",
        "SEARCH_BACKEND": "embedded",
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
    }
    with EmbeddedAws(environment=environment) as embedded:
        yield embedded


@dataclass(frozen=True)
class TenantKey:
    tenant_id: str
    api_key: str


@pytest.fixture
def tenant_a(aws: EmbeddedAws) -> TenantKey:
    from stratus.identity import get_identity_service

    service = get_identity_service()
    service.ensure_tenant("tenant-a")
    _, key = service.issue_api_key("tenant-a", "alice", roles=("member",))
    return TenantKey("tenant-a", key)


@pytest.fixture
def tenant_b(aws: EmbeddedAws) -> TenantKey:
    from stratus.identity import get_identity_service

    service = get_identity_service()
    service.ensure_tenant("tenant-b")
    _, key = service.issue_api_key("tenant-b", "bob", roles=("member",))
    return TenantKey("tenant-b", key)


@pytest.fixture
def client(aws: EmbeddedAws) -> Iterator[TestClient]:
    """HTTP + WebSocket client through the dev gateway: template routes → the real FastAPI apps."""
    from stratus.local.devserver import build_gateway

    with TestClient(build_gateway(aws.template)) as test_client:
        yield test_client


def auth(key: TenantKey) -> dict[str, str]:
    return {"X-Api-Key": key.api_key}


def emf_metrics(stdout: str) -> dict[str, list[float]]:
    """Every metric value in the EMF documents Powertools printed, by metric name."""
    found: dict[str, list[float]] = {}
    for line in stdout.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for definition in document["_aws"]["CloudWatchMetrics"]:
            for metric in definition["Metrics"]:
                value = document[metric["Name"]]
                found.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return found


@pytest.fixture
def emitted_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics on, as deployed (the embedded stack turns them off), with nothing buffered from earlier tests."""
    from stratus.observability import metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "StratusTest")
    metrics.clear_metrics()
