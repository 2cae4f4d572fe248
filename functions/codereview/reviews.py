"""Reading reviews: a page of a tenant's reviews, and one review with its runs, findings and posted comments."""

from __future__ import annotations

import json
from typing import Any

from codereview.items import FindingItem, ReviewItem, RunItem
from codereview.repository import ReviewRepository
from codereview.schemas import FindingView, ReviewDetailView, ReviewSummaryView, RunView


def _ints(values: Any) -> list[int]:
    return [int(value) for value in values or []]


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def summary_view(item: ReviewItem) -> ReviewSummaryView:
    return ReviewSummaryView(
        pr_id=int(item.sk),
        repository=item.repository,
        number=int(item.number),
        title=item.title,
        url=item.url,
        state=item.state,
        head_sha=item.head_sha,
        last_reviewed_sha=item.last_reviewed_sha,
        posted_review_ids=_ints(item.posted_review_ids),
        updated_at=int(item.updated_at),
    )


def finding_view(item: FindingItem) -> FindingView:
    return FindingView(
        fingerprint=item.sk,
        path=item.path,
        line=int(item.line),
        severity=item.severity,
        category=item.category,
        rule=item.rule,
        stage=item.stage,
        source=item.source,
        offline=bool(item.offline),
        message=item.message,
        suggestion=item.suggestion,
        status=item.status,
        reason=item.reason,
        commit_sha=item.commit_sha,
        comment_id=_optional_int(item.comment_id),
        review_id=_optional_int(item.review_id),
        outcome=item.outcome,
        outcome_reason=item.outcome_reason,
    )


def run_view(item: RunItem) -> RunView:
    finished = _optional_int(item.finished_at)
    return RunView(
        run_id=item.sk,
        head_sha=item.head_sha,
        reason=item.reason,
        scope=item.scope,
        status=item.status,
        current_stage=item.current_stage,
        stages=json.loads(item.stages or "{}"),
        skipped_files=json.loads(item.skipped_files or "[]"),
        preferences=json.loads(item.preferences or "{}"),
        review_id=_optional_int(item.review_id),
        comment_ids=_ints(item.comment_ids),
        error=item.error,
        started_at=int(item.started_at),
        finished_at=finished,
        duration_s=None if finished is None else max(0, finished - int(item.started_at)),
    )


class ReviewService:
    def __init__(self, repository: ReviewRepository) -> None:
        self._repository = repository

    def page(
        self,
        tenant_id: str,
        *,
        repository: str | None,
        state: str | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> tuple[list[ReviewSummaryView], dict[str, Any] | None]:
        items, position = self._repository.list_reviews(
            tenant_id, repository=repository, state=state, limit=limit, start=start
        )
        return [summary_view(item) for item in items], position

    def detail(self, tenant_id: str, pr_id: int) -> ReviewDetailView:
        review = self._repository.review(tenant_id, pr_id)
        runs = [run_view(item) for item in self._repository.runs(tenant_id, pr_id)]
        findings = sorted(
            (finding_view(item) for item in self._repository.findings(tenant_id, pr_id)),
            key=lambda f: (f.path, f.line, f.fingerprint),
        )
        return ReviewDetailView(
            **summary_view(review).model_dump(),
            runs=runs,
            findings=findings,
            posted_comment_ids=sorted(f.comment_id for f in findings if f.comment_id is not None),
        )
