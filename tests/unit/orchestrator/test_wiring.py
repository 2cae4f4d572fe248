"""The orchestrator's wiring: the API starts without its use cases, and builds TaskService once per container."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stratus.cache import reset_containers

REPO = Path(__file__).resolve().parents[3]
LAZY = (
    "orchestrator.tasks",
    "orchestrator.repository",
    "orchestrator.steps",
    "stratus.flows.progress",
    "stratus.flows.tokens",
    "stratus.flows.stepfunctions",
)


def test_the_api_module_loads_none_of_the_use_cases_until_a_request_needs_them() -> None:
    # Given a fresh interpreter, as a cold Lambda container has
    script = "import sys\nimport orchestrator.app\nprint(','.join(sorted(m for m in sys.argv[1:] if m in sys.modules)))"
    path = os.pathsep.join((str(REPO / "layers" / "common"), str(REPO / "functions")))
    environment = {**os.environ, "PYTHONPATH": path, "AWS_REGION": "us-east-1"}

    # When it imports the API's Handler module
    completed = subprocess.run(
        [sys.executable, "-c", script, *LAZY], env=environment, capture_output=True, text=True, check=True
    )

    # Then none of the use cases, the repository or the flows adapters were loaded
    assert completed.stdout.strip() == ""


def test_task_service_is_built_once_per_container_and_afresh_after_a_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator import wiring

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("ORCHESTRATOR_TABLE", "orchestrator")
    monkeypatch.setenv("CONNECTIONS_TABLE", "connections")
    monkeypatch.setenv("WEBSOCKET_CALLBACK_URL", "https://ws.example.com/prod")
    reset_containers()
    try:
        first = wiring.task_service()
        assert wiring.task_service() is first
        reset_containers()
        assert wiring.task_service() is not first
    finally:
        reset_containers()
