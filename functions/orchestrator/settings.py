"""Settings of the orchestrator: the layer's settings plus the orchestrator mixin, validated at cold start."""

from __future__ import annotations

from pydantic import Field, model_validator

from stratus.cache import per_container
from stratus.config import Settings
from stratus.config.base import ConfigBase


class OrchestratorMixin(ConfigBase):
    orchestrator_table: str = Field(default="", description="DynamoDB table of tasks, steps, events and agents")
    orchestrator_state_machine_arn: str = Field(default="", description="the multi-agent state machine")
    orchestrator_approval_timeout_s: int = Field(
        default=7 * 24 * 3600, ge=1, le=364 * 24 * 3600, description="an approval checkpoint fails the task after this"
    )
    orchestrator_pause_timeout_s: int = Field(
        default=7 * 24 * 3600, ge=1, le=364 * 24 * 3600, description="a paused task fails after this without resume"
    )
    orchestrator_default_max_steps: int = Field(default=12, ge=1, le=100, description="agent steps per task")
    orchestrator_max_steps_limit: int = Field(default=50, ge=1, le=500)
    orchestrator_default_token_budget: int = Field(default=200_000, ge=1)
    orchestrator_token_budget_limit: int = Field(default=5_000_000, ge=1)
    orchestrator_max_rounds: int = Field(default=3, ge=1, le=20, description="rounds a rejection may send work back")
    orchestrator_max_turns: int = Field(default=6, ge=1, le=50, description="tool-loop turns of one agent step")
    orchestrator_max_research_questions: int = Field(default=3, ge=1, le=10)
    orchestrator_max_input_bytes: int = Field(default=512 * 1024, ge=1, le=2 * 1024 * 1024)
    orchestrator_check_timeout_s: float = Field(default=10.0, gt=0, le=120, description="ruff per snippet")
    orchestrator_events_wait_limit_s: float = Field(
        default=20.0, ge=0, le=25, description="longest a GET /events may wait for new events (API Gateway: 29 s)"
    )

    @model_validator(mode="after")
    def _defaults_within_limits(self) -> OrchestratorMixin:
        if self.orchestrator_default_max_steps > self.orchestrator_max_steps_limit:
            raise ValueError("ORCHESTRATOR_DEFAULT_MAX_STEPS must not exceed ORCHESTRATOR_MAX_STEPS_LIMIT")
        if self.orchestrator_default_token_budget > self.orchestrator_token_budget_limit:
            raise ValueError("ORCHESTRATOR_DEFAULT_TOKEN_BUDGET must not exceed ORCHESTRATOR_TOKEN_BUDGET_LIMIT")
        return self


class OrchestratorSettings(Settings, OrchestratorMixin):
    """Everything an orchestrator function reads from its environment."""


@per_container
def get_orchestrator_settings() -> OrchestratorSettings:
    return OrchestratorSettings()
