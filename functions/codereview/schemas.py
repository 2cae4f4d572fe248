"""API bodies of the codereview service: requests end in ``Request``, responses in ``View``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from codereview.domain import ReviewRules, validate_repository

WEBHOOK_PATH = "/codereview/webhooks/github"
ReviewState = Literal["queued", "reviewing", "posted", "held", "clean", "failed", "skipped", "closed", "merged"]


class RepositoryRegistrationRequest(BaseModel):
    """A repository webhook you created on GitHub, with the secret you gave it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["repository"]
    repository: str = Field(description="owner/name")
    repository_id: int = Field(gt=0, description="GitHub's numeric repository id (gh api repos/OWNER/NAME --jq .id)")
    webhook_secret: SecretStr = Field(min_length=16, max_length=256)
    github_token: SecretStr | None = Field(
        default=None, description="token with pull_requests:write and contents:read for this repository"
    )

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        return validate_repository(value)


class AppRegistrationRequest(BaseModel):
    """Your own GitHub App: its webhook secret and private key; every installation of it belongs to you."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["app"]
    app_id: int = Field(gt=0)
    webhook_secret: SecretStr = Field(min_length=16, max_length=256)
    private_key: SecretStr = Field(description="the App's PEM private key (RSA), as GitHub generated it")

    @field_validator("private_key")
    @classmethod
    def _usable_key(cls, value: SecretStr) -> SecretStr:
        from stratus.github.auth import check_app_private_key

        check_app_private_key(value.get_secret_value())
        return value


RegistrationRequest = Annotated[
    RepositoryRegistrationRequest | AppRegistrationRequest, Field(discriminator="kind")
]


class InstallationView(BaseModel):

    id: int
    account: str | None
    status: str
    repositories: list[str]
    updated_at: int


class RegistrationView(BaseModel):

    id: str
    kind: Literal["repository", "app"]
    repository: str | None = None
    repository_id: int | None = None
    app_id: int | None = None
    hook_target: str = Field(description="what GitHub's delivery headers name: repository#<id> or app#<id>")
    webhook_path: str = WEBHOOK_PATH
    has_token: bool
    created_at: int
    updated_at: int
    installations: list[InstallationView] = Field(
        default_factory=list, description="App installations seen so far"
    )


class RulesRequest(ReviewRules):
    """A repository's rules, as posted: they replace the stored ones."""


class RulesView(BaseModel):

    rules: ReviewRules
    configured: bool
    updated_at: int | None = None


class FindingView(BaseModel):
    fingerprint: str
    path: str
    line: int
    severity: str
    category: str
    rule: str | None
    stage: str
    source: str
    offline: bool
    message: str
    suggestion: str | None
    status: str
    reason: str | None
    commit_sha: str
    comment_id: int | None
    review_id: int | None
    outcome: str
    outcome_reason: str | None


class RunView(BaseModel):
    run_id: str
    head_sha: str
    reason: str
    scope: str
    status: str
    current_stage: str | None
    stages: dict[str, Any]
    skipped_files: list[dict[str, str]]
    preferences: dict[str, Any]
    review_id: int | None
    comment_ids: list[int]
    error: str | None
    started_at: int
    finished_at: int | None
    duration_s: float | None


class ReviewSummaryView(BaseModel):

    pr_id: int
    repository: str
    number: int
    title: str
    url: str
    state: str
    head_sha: str
    last_reviewed_sha: str | None
    posted_review_ids: list[int]
    updated_at: int


class ReviewDetailView(ReviewSummaryView):

    runs: list[RunView]
    findings: list[FindingView]
    posted_comment_ids: list[int] = Field(description="every inline comment Stratus posted on this pull request")


class ApproveView(BaseModel):

    status: str
    review_id: int
    comments: int = Field(description="inline comments posted")


class AcceptanceRowView(BaseModel):

    key: str
    posted: int
    accepted: int
    rejected: int
    pending: int
    acceptance_rate: float | None


class SuggestionAnalyticsView(BaseModel):

    totals: AcceptanceRowView
    by_repository: list[AcceptanceRowView]
    by_category: list[AcceptanceRowView]
    by_severity: list[AcceptanceRowView]
    by_week: list[AcceptanceRowView]
