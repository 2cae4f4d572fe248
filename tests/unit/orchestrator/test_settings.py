"""The orchestrator's settings are validated at cold start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orchestrator.settings import OrchestratorSettings


def test_defaults_are_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    settings = OrchestratorSettings()

    assert settings.orchestrator_default_max_steps == 12
    assert settings.orchestrator_approval_timeout_s == 7 * 24 * 3600


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ORCHESTRATOR_DEFAULT_MAX_STEPS", "60", "must not exceed ORCHESTRATOR_MAX_STEPS_LIMIT"),
        ("ORCHESTRATOR_DEFAULT_TOKEN_BUDGET", "9000000", "must not exceed ORCHESTRATOR_TOKEN_BUDGET_LIMIT"),
        ("ORCHESTRATOR_APPROVAL_TIMEOUT_S", "0", "greater than or equal to 1"),
        ("ORCHESTRATOR_EVENTS_WAIT_LIMIT_S", "60", "less than or equal to 25"),
    ],
)
def test_a_setting_out_of_bounds_fails_at_cold_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=message):
        OrchestratorSettings()
