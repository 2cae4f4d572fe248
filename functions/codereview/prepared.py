"""What one review run works on, kept in S3 between the workflow's steps (the state stays small)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from codereview.domain import Finding, LearnedPreferences, ReviewRules, ReviewTrigger, StageName
from codereview.files import Chunk
from stratus.storage import BlobStore


class PreparedFile(BaseModel):
    path: str
    status: str
    previous_path: str | None = None
    language: str
    patch: str = Field(description="the hunks under review (the whole PR, or what changed since the last review)")
    reviewable_lines: list[int] = Field(description="added lines under review that GitHub accepts comments on")
    commentable_lines: list[int] = Field(description="every RIGHT-side line of the pull request's diff")
    content: str | None = Field(default=None, description="the file at the head commit, for whole-file parsers")


class SkippedFile(BaseModel):
    path: str
    reason: str


class Prepared(BaseModel):
    trigger: ReviewTrigger
    scope: str = Field(description="'full' or 'since <sha>'")
    always_post: bool = Field(description="post a summary even with no new findings (first review, /review)")
    rules: ReviewRules
    preferences: LearnedPreferences
    files: list[PreparedFile]
    skipped: list[SkippedFile]
    chunks: list[Chunk]
    overflow: list[str] = Field(default_factory=list, description="files past the chunk budget: parsers/rules only")

    def file(self, path: str) -> PreparedFile | None:
        return next((f for f in self.files if f.path == path), None)


class StageResult(BaseModel):
    stage: StageName
    chunk: int | None = None
    status: Literal["done", "disabled"] = "done"
    findings: list[Finding] = Field(default_factory=list)
    duration_ms: float = 0.0
    offline: bool = False
    model: str | None = None
    notes: list[str] = Field(default_factory=list)


class StageSummary(BaseModel):
    """What a step returns to the workflow: small, with the S3 key of the full result."""

    stage: StageName
    chunk: int | None = None
    status: str
    findings: int
    duration_ms: float
    offline: bool = False
    key: str


def run_prefix(pr_id: int, run_id: str) -> str:
    return f"codereview/runs/{pr_id}/{run_id}"


class RunDocuments:
    """The prepared run and each stage's result, tenant-prefixed in the codereview bucket."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    def save_prepared(self, tenant_id: str, prepared: Prepared) -> str:
        key = f"{run_prefix(prepared.trigger.pr_id, prepared.trigger.run_id)}/prepared.json"
        self._blobs.put(tenant_id, key, prepared.model_dump_json().encode(), "application/json")
        return key

    def load_prepared(self, tenant_id: str, key: str) -> Prepared:
        return Prepared.model_validate_json(self._blobs.get(tenant_id, key))

    def save_result(self, tenant_id: str, pr_id: int, run_id: str, result: StageResult) -> str:
        suffix = result.stage if result.chunk is None else f"{result.stage}-{result.chunk}"
        key = f"{run_prefix(pr_id, run_id)}/{suffix}.json"
        self._blobs.put(tenant_id, key, result.model_dump_json().encode(), "application/json")
        return key

    def load_result(self, tenant_id: str, key: str) -> StageResult:
        return StageResult.model_validate_json(self._blobs.get(tenant_id, key))
