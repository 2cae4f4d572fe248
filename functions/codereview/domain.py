"""The values of a review: severities, findings, per-repository rules, learned preferences."""

from __future__ import annotations

import hashlib
import re
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from codereview.globs import validate_glob

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")
StageName = Literal["syntax", "logic", "security"]
STAGES: tuple[StageName, ...] = ("syntax", "logic", "security")
FindingSource = Literal["parser", "linter", "rule", "model", "heuristic"]
Category = Literal[
    "syntax", "bug", "error-handling", "security", "performance", "maintainability", "style", "testing", "documentation"
]
CATEGORIES: tuple[Category, ...] = (
    "syntax",
    "bug",
    "error-handling",
    "security",
    "performance",
    "maintainability",
    "style",
    "testing",
    "documentation",
)
PostMode = Literal["auto", "hold"]
Outcome = Literal["pending", "accepted", "rejected"]
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")


def severity_rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


def raise_severity(severity: Severity, levels: int = 1) -> Severity:
    return SEVERITIES[min(len(SEVERITIES) - 1, severity_rank(severity) + levels)]


def validate_repository(value: str) -> str:
    if not _REPOSITORY.fullmatch(value) or value.split("/")[1] in (".", ".."):
        raise ValueError("repository must be owner/name as on GitHub, e.g. octo-org/hello-world")
    return value


def repository_key(repository: str) -> str:
    """Repositories are case-insensitive on GitHub; keys use the lowercase full name."""
    return repository.lower()


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Value):
    """One problem a stage found on one line of the pull request's new code."""

    path: str
    line: int = Field(ge=1)
    severity: Severity
    category: Category
    message: str = Field(min_length=1, max_length=2000)
    suggestion: str | None = Field(default=None, max_length=4000, description="replacement for the line, if any")
    rule: str | None = Field(default=None, max_length=120, description="rule or check id; None for model findings")
    stage: StageName
    source: FindingSource
    offline: bool = Field(default=False, description="true when a heuristic stood in for the language model")
    line_text: str = Field(default="", max_length=2000, description="the code on that line, for the fingerprint")

    @property
    def pattern(self) -> str:
        """What feedback is learned about across findings: the rule, or the category for model findings."""
        return f"{self.category}/{self.rule}" if self.rule else self.category

    def fingerprint(self, repository: str) -> str:
        """Stable across pushes: the line's code, not its number, identifies the finding."""
        code = " ".join(self.line_text.split())
        subject = self.rule or self.category
        raw = "\x1f".join((repository_key(repository), self.path, self.category, subject, code))
        return hashlib.sha256(raw.encode()).hexdigest()[:24]


class StageToggles(_Value):
    syntax: bool = True
    logic: bool = True
    security: bool = True

    def enabled(self, stage: StageName) -> bool:
        return bool(getattr(self, stage))


class ReviewRules(_Value):
    """Per-repository review rules; a repository without its own rules gets these defaults."""

    repository: str = Field(description="owner/name")
    stages: StageToggles = Field(default_factory=StageToggles)
    severity_threshold: Severity = Field(default="low", description="findings below this are not posted")
    ignored_paths: tuple[str, ...] = Field(
        default=(), max_length=100, description="globs (gitignore style: **, *, ?, [abc]) of paths never reviewed"
    )
    custom_instructions: str = Field(default="", max_length=4000, description="added to the model's instructions")
    max_comments: int = Field(default=25, ge=1, le=100, description="inline comments per review at most")
    mode: PostMode = Field(default="auto", description="auto posts at once; hold waits for POST .../approve")

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        return validate_repository(value)

    @field_validator("ignored_paths")
    @classmethod
    def _globs(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            validate_glob(value)
        return values


class CategoryPreference(_Value):
    category: Category
    accepted: int
    rejected: int
    action: Literal["suppress", "raise-threshold", "keep"]
    minimum_severity: Severity | None = None


class LearnedPreferences(_Value):
    """What a repository's feedback taught: patterns and categories to drop or hold to a higher bar."""

    suppressed_patterns: dict[str, str] = Field(default_factory=dict, description="pattern -> why")
    suppressed_fingerprints: dict[str, str] = Field(default_factory=dict, description="fingerprint -> why")
    categories: tuple[CategoryPreference, ...] = ()

    def category(self, category: str) -> CategoryPreference | None:
        return next((c for c in self.categories if c.category == category), None)

    @property
    def empty(self) -> bool:
        return not (self.suppressed_patterns or self.suppressed_fingerprints or self.categories)


class ReviewTrigger(_Value):
    """What the worker hands to the state machine: one review run of one pull request at one head commit."""

    tenant_id: str
    pr_id: int
    run_id: str
    repository: str
    number: int
    head_sha: str
    base_sha: str
    registration_id: str
    installation_id: int | None = None
    reason: Literal["opened", "reopened", "synchronize", "ready_for_review", "command"]
    full: bool = Field(default=False, description="review the whole pull request, not only what changed")

    @model_validator(mode="after")
    def _shas(self) -> Self:
        for sha in (self.head_sha, self.base_sha):
            if not re.fullmatch(r"[0-9a-f]{7,64}", sha):
                raise ValueError(f"not a commit sha: {sha!r}")
        return self
