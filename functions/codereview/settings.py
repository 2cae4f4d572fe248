"""Settings of the codereview service: the layer's `Settings` plus the ``CODEREVIEW_*`` mixin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator

from stratus.cache import per_container
from stratus.config import Settings
from stratus.config.base import ConfigBase

if TYPE_CHECKING:
    from stratus.github.client import GitHubConfig


class CodeReviewSettings(ConfigBase):
    codereview_table: str = Field(default="", description="DynamoDB table of registrations, reviews and feedback")
    codereview_bucket: str = Field(default="", description="S3 bucket of prepared diffs and stage results")
    codereview_queue_url: str = Field(default="", description="SQS queue the webhook enqueues deliveries to")
    codereview_state_machine_arn: str = Field(default="", description="the code review state machine")
    codereview_secret_prefix: str = Field(
        default="stratus/local/codereview", description="Secrets Manager name prefix of registration secrets"
    )
    codereview_github_api_url: str = Field(
        default="https://api.github.com", description="GitHub REST API (GitHub Enterprise: https://<host>/api/v3)"
    )
    codereview_github_token: SecretStr | None = Field(
        default=None, description="token for repositories registered without one (local development)"
    )
    codereview_github_timeout_s: float = Field(default=10.0, gt=0, le=60)
    codereview_github_max_attempts: int = Field(default=4, ge=1, le=10)
    codereview_github_max_wait_s: float = Field(
        default=20.0,
        ge=0,
        le=300,
        description="longest rate-limit wait inside one call; longer ones go to the workflow",
    )
    codereview_chunk_token_budget: int = Field(
        default=6000, ge=500, le=100_000, description="tokens of diff per model call"
    )
    codereview_max_chunks: int = Field(default=16, ge=1, le=200, description="model calls per stage for one review")
    codereview_max_files: int = Field(default=300, ge=1, le=3000)
    codereview_max_file_bytes: int = Field(default=512 * 1024, ge=1024, description="larger files are not fetched")
    codereview_delivery_ttl_days: int = Field(default=30, ge=1, le=365)
    codereview_lint_timeout_s: float = Field(default=20.0, gt=0, le=120)
    codereview_suppress_after_rejections: int = Field(
        default=3, ge=1, le=100, description="a rule rejected this often, never accepted, is no longer posted"
    )
    codereview_min_feedback: int = Field(
        default=4, ge=1, le=1000, description="decided suggestions of a category before its threshold moves"
    )

    @field_validator("codereview_github_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("CODEREVIEW_GITHUB_API_URL must be an http(s) URL")
        return value.rstrip("/")

    def github_config(self) -> GitHubConfig:
        from stratus.github.client import GitHubConfig

        return GitHubConfig(
            api_url=self.codereview_github_api_url,
            timeout_s=self.codereview_github_timeout_s,
            max_attempts=self.codereview_github_max_attempts,
            max_wait_s=self.codereview_github_max_wait_s,
        )


class CodeReviewServiceSettings(Settings, CodeReviewSettings):
    """Everything a codereview function reads from its environment."""


@per_container
def get_codereview_settings() -> CodeReviewServiceSettings:
    return CodeReviewServiceSettings()
