"""DynamoDB access of the review agent: reviews, runs, findings, rules, registrations, deliveries.

Every method takes the tenant (the webhook-target lookup is the one cross-tenant read, by design).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from codereview.domain import Finding, ReviewTrigger, repository_key
from codereview.items import (
    CommentItem,
    DeliveryItem,
    FeedbackStatItem,
    FindingItem,
    InstallationItem,
    LearnedStatItem,
    RegistrationItem,
    ReviewItem,
    RulesItem,
    RunItem,
    bind_tables,
)
from codereview.settings import CodeReviewServiceSettings
from stratus.errors import NotFound
from stratus.storage import tenant_key

CLAIM_TIMEOUT_S = 600
UNPOSTED_STATUSES = (
    "new",
    "held",
    "suppressed",
    "below-threshold",
    "outside-diff",
    "over-limit",
    "superseded",
    "failed",
)


class ReviewRepository:
    def __init__(self, settings: CodeReviewServiceSettings) -> None:
        bind_tables(settings.codereview_table)

    def review(self, tenant_id: str, pr_id: int) -> ReviewItem:
        try:
            item: ReviewItem = ReviewItem.get(tenant_key(tenant_id, "REVIEW"), str(pr_id), consistent_read=True)
        except ReviewItem.DoesNotExist as exc:
            raise NotFound(f"no review of pull request {pr_id}") from exc
        return item

    def find_review(self, tenant_id: str, pr_id: int) -> ReviewItem | None:
        try:
            return self.review(tenant_id, pr_id)
        except NotFound:
            return None

    def upsert_review(self, trigger: ReviewTrigger, *, title: str, url: str) -> ReviewItem:
        now = int(time.time())
        existing = self.find_review(trigger.tenant_id, trigger.pr_id)
        if existing is None:
            item = ReviewItem(
                tenant_key(trigger.tenant_id, "REVIEW"),
                str(trigger.pr_id),
                repository=trigger.repository,
                repo_key=repository_key(trigger.repository),
                number=trigger.number,
                title=title,
                url=url,
                state="queued",
                registration_id=trigger.registration_id,
                installation_id=trigger.installation_id,
                head_sha=trigger.head_sha,
                base_sha=trigger.base_sha,
                latest_run_id=trigger.run_id,
                created_at=now,
                updated_at=now,
            )
            item.save()
            return item
        existing.update(
            actions=[
                ReviewItem.head_sha.set(trigger.head_sha),
                ReviewItem.base_sha.set(trigger.base_sha),
                ReviewItem.state.set("queued"),
                ReviewItem.latest_run_id.set(trigger.run_id),
                ReviewItem.title.set(title or existing.title),
                ReviewItem.installation_id.set(trigger.installation_id)
                if trigger.installation_id is not None
                else ReviewItem.installation_id.remove(),
                ReviewItem.updated_at.set(now),
            ]
        )
        return existing

    def set_review_state(self, tenant_id: str, pr_id: int, state: str, **fields: Any) -> None:
        item = self.review(tenant_id, pr_id)
        actions: list[Action] = [ReviewItem.state.set(state), ReviewItem.updated_at.set(int(time.time()))]
        for name, value in fields.items():
            attribute = getattr(ReviewItem, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        item.update(actions=actions)

    def mark_reviewed(self, tenant_id: str, pr_id: int, run_id: str, head_sha: str) -> None:
        """Advance the last reviewed commit, unless a later run already did."""
        item = self.review(tenant_id, pr_id)
        try:
            item.update(
                actions=[ReviewItem.last_reviewed_sha.set(head_sha), ReviewItem.last_reviewed_run.set(run_id)],
                condition=ReviewItem.last_reviewed_run.does_not_exist() | (ReviewItem.last_reviewed_run < run_id),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def add_posted_review(self, tenant_id: str, pr_id: int, review_id: int) -> None:
        item = self.review(tenant_id, pr_id)
        item.update(actions=[ReviewItem.posted_review_ids.set(ReviewItem.posted_review_ids.append([review_id]))])

    def list_reviews(
        self,
        tenant_id: str,
        *,
        repository: str | None,
        state: str | None,
        limit: int,
        start: dict[str, Any] | None,
    ) -> tuple[list[ReviewItem], dict[str, Any] | None]:
        """A page of reviews, newest pull request id first; ``start`` is the position the last page ended at."""
        condition = None
        if repository is not None:
            condition = ReviewItem.repo_key == repository_key(repository)
        if state is not None:
            by_state = ReviewItem.state == state
            condition = by_state if condition is None else condition & by_state
        results = ReviewItem.query(
            tenant_key(tenant_id, "REVIEW"),
            filter_condition=condition,
            limit=limit,
            last_evaluated_key=start,
            scan_index_forward=False,
        )
        items = list(results)
        return items, results.last_evaluated_key

    def runs(self, tenant_id: str, pr_id: int, limit: int = 20) -> list[RunItem]:
        return list(RunItem.query(tenant_key(tenant_id, "RUN", str(pr_id)), scan_index_forward=False, limit=limit))

    def create_run(self, trigger: ReviewTrigger) -> bool:
        """Record a run once (SQS may deliver the same delivery twice); True when it is new."""
        try:
            RunItem(
                tenant_key(trigger.tenant_id, "RUN", str(trigger.pr_id)),
                trigger.run_id,
                head_sha=trigger.head_sha,
                base_sha=trigger.base_sha,
                reason=trigger.reason,
                full=trigger.full,
                status="queued",
                started_at=int(time.time()),
            ).save(condition=RunItem.sk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def run(self, tenant_id: str, pr_id: int, run_id: str) -> RunItem:
        try:
            item: RunItem = RunItem.get(tenant_key(tenant_id, "RUN", str(pr_id)), run_id, consistent_read=True)
        except RunItem.DoesNotExist as exc:
            raise NotFound(f"no run {run_id} of pull request {pr_id}") from exc
        return item

    def update_run(self, tenant_id: str, pr_id: int, run_id: str, **fields: Any) -> None:
        item = self.run(tenant_id, pr_id, run_id)
        actions: list[Action] = []
        for name, value in fields.items():
            attribute = getattr(RunItem, name)
            if isinstance(value, dict | list) and name in ("stages", "skipped_files", "preferences"):
                value = json.dumps(value)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        item.update(actions=actions)

    def findings(self, tenant_id: str, pr_id: int) -> Iterable[FindingItem]:
        return FindingItem.query(tenant_key(tenant_id, "FINDING", str(pr_id)))

    def finding(self, tenant_id: str, pr_id: int, fingerprint: str) -> FindingItem | None:
        try:
            item: FindingItem = FindingItem.get(tenant_key(tenant_id, "FINDING", str(pr_id)), fingerprint)
        except FindingItem.DoesNotExist:
            return None
        return item

    def record_finding(
        self, trigger: ReviewTrigger, fingerprint: str, finding: Finding, status: str, reason: str | None
    ) -> None:
        """Write a finding that will not be posted now; never overwrites one that was posted or is posting."""
        item = FindingItem(
            tenant_key(trigger.tenant_id, "FINDING", str(trigger.pr_id)),
            fingerprint,
            **_finding_fields(trigger, finding),
            status=status,
            reason=reason,
        )
        try:
            item.save(condition=FindingItem.sk.does_not_exist() | FindingItem.status.is_in(*UNPOSTED_STATUSES))
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def claim(self, trigger: ReviewTrigger, fingerprint: str, finding: Finding, status: str = "posting") -> bool:
        """Take a finding for posting (or holding); False when another run posted or is posting it."""
        now = int(time.time())
        item = FindingItem(
            tenant_key(trigger.tenant_id, "FINDING", str(trigger.pr_id)),
            fingerprint,
            **_finding_fields(trigger, finding),
            status=status,
            claimed_at=now,
        )
        stale = (FindingItem.status == "posting") & (FindingItem.claimed_at < now - CLAIM_TIMEOUT_S)
        try:
            item.save(condition=FindingItem.sk.does_not_exist() | FindingItem.status.is_in(*UNPOSTED_STATUSES) | stale)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_posted(
        self,
        trigger: ReviewTrigger,
        posted: Sequence[tuple[str, Finding, int | None]],
        *,
        review_id: int,
        week: str,
    ) -> None:
        """Record claimed findings as posted, with their comment ids, in batch writes (this run owns the claims)."""
        now = int(time.time())
        with FindingItem.batch_write() as findings:
            for fingerprint, finding, comment_id in posted:
                findings.save(
                    FindingItem(
                        tenant_key(trigger.tenant_id, "FINDING", str(trigger.pr_id)),
                        fingerprint,
                        **_finding_fields(trigger, finding),
                        status="posted",
                        review_id=review_id,
                        comment_id=comment_id,
                        posted_at=now,
                        week=week,
                    )
                )
        with CommentItem.batch_write() as comments:
            for fingerprint, _, comment_id in posted:
                if comment_id is not None:
                    comments.save(
                        CommentItem(
                            tenant_key(trigger.tenant_id, "COMMENT"),
                            str(comment_id),
                            pr_id=trigger.pr_id,
                            fingerprint=fingerprint,
                        )
                    )

    def set_finding_status(
        self, tenant_id: str, pr_id: int, fingerprint: str, status: str, reason: str | None = None
    ) -> None:
        item = FindingItem(tenant_key(tenant_id, "FINDING", str(pr_id)), fingerprint)
        item.update(
            actions=[
                FindingItem.status.set(status),
                FindingItem.reason.set(reason) if reason else FindingItem.reason.remove(),
            ]
        )

    def comment(self, tenant_id: str, comment_id: int) -> CommentItem | None:
        try:
            item: CommentItem = CommentItem.get(tenant_key(tenant_id, "COMMENT"), str(comment_id))
        except CommentItem.DoesNotExist:
            return None
        return item


def in_parallel[T, R](work: Callable[[T], R], items: Sequence[T], workers: int = 8) -> list[R]:
    """Independent DynamoDB calls side by side (each is a network round trip); results in order."""
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(work, items))


def _finding_fields(trigger: ReviewTrigger, finding: Finding) -> dict[str, Any]:
    return {
        "repository": trigger.repository,
        "path": finding.path,
        "line": finding.line,
        "severity": finding.severity,
        "category": finding.category,
        "rule": finding.rule,
        "pattern": finding.pattern,
        "stage": finding.stage,
        "source": finding.source,
        "offline": finding.offline,
        "message": finding.message,
        "suggestion": finding.suggestion,
        "run_id": trigger.run_id,
        "commit_sha": trigger.head_sha,
    }


class RulesRepository:
    """One rules item per repository, keyed by its lowercase name."""

    def __init__(self, settings: CodeReviewServiceSettings) -> None:
        bind_tables(settings.codereview_table)

    def put(self, tenant_id: str, repository: str, document: str, updated_at: int) -> None:
        RulesItem(
            tenant_key(tenant_id, "RULES"), repository_key(repository), document=document, updated_at=updated_at
        ).save()

    def get(self, tenant_id: str, repository: str) -> RulesItem | None:
        try:
            item: RulesItem = RulesItem.get(tenant_key(tenant_id, "RULES"), repository_key(repository))
        except RulesItem.DoesNotExist:
            return None
        return item

    def list_for(self, tenant_id: str) -> list[RulesItem]:
        return list(RulesItem.query(tenant_key(tenant_id, "RULES")))


class RegistrationRepository:
    """Registrations (repository hooks and Apps), their App installations, and the webhook-target index."""

    def __init__(self, settings: CodeReviewServiceSettings) -> None:
        bind_tables(settings.codereview_table)

    def find(self, tenant_id: str, registration_id: str, *, consistent: bool = False) -> RegistrationItem | None:
        try:
            item: RegistrationItem = RegistrationItem.get(
                tenant_key(tenant_id, "REGISTRATION"), registration_id, consistent_read=consistent
            )
        except RegistrationItem.DoesNotExist:
            return None
        return item

    def save(self, tenant_id: str, registration_id: str, **fields: Any) -> RegistrationItem:
        item = RegistrationItem(tenant_key(tenant_id, "REGISTRATION"), registration_id, **fields)
        item.save()
        return item

    def delete(self, item: RegistrationItem) -> None:
        item.delete()

    def list_for(self, tenant_id: str) -> list[RegistrationItem]:
        return list(RegistrationItem.query(tenant_key(tenant_id, "REGISTRATION")))

    def by_hook_target(self, target: str, limit: int) -> list[RegistrationItem]:
        return list(RegistrationItem.by_hook_target.query(target, limit=limit))

    def installations(self, tenant_id: str, registration_id: str) -> list[InstallationItem]:
        return [
            item
            for item in InstallationItem.query(tenant_key(tenant_id, "INSTALLATION"))
            if item.registration_id == registration_id
        ]

    def save_installation(self, tenant_id: str, installation_id: int, **fields: Any) -> None:
        InstallationItem(tenant_key(tenant_id, "INSTALLATION"), str(installation_id), **fields).save()


class DeliveryRepository:
    """One record per GitHub delivery id (with a TTL): a redelivered webhook is answered, not queued twice."""

    def __init__(self, settings: CodeReviewServiceSettings) -> None:
        bind_tables(settings.codereview_table)

    def record_once(self, tenant_id: str, delivery_id: str, **fields: Any) -> bool:
        """Write the delivery's record; False when it was already accepted."""
        try:
            DeliveryItem(tenant_key(tenant_id, "DELIVERY"), delivery_id, **fields).save(
                condition=DeliveryItem.sk.does_not_exist()
            )
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def forget(self, tenant_id: str, delivery_id: str) -> None:
        DeliveryItem(tenant_key(tenant_id, "DELIVERY"), delivery_id).delete()

    def mark_done(self, tenant_id: str, delivery_id: str) -> None:
        try:
            item = DeliveryItem.get(tenant_key(tenant_id, "DELIVERY"), delivery_id)
        except DeliveryItem.DoesNotExist:
            return
        item.update(actions=[DeliveryItem.status.set("done")])


def _stat_labels(repository: str, week: str, category: str, severity: str) -> list[Any]:
    return [
        FeedbackStatItem.repository.set(repository_key(repository)),
        FeedbackStatItem.week.set(week),
        FeedbackStatItem.category.set(category),
        FeedbackStatItem.severity.set(severity),
    ]


class FeedbackRepository:
    """Acceptance counters by week, what a repository's feedback taught, and each suggestion's outcome."""

    def __init__(self, settings: CodeReviewServiceSettings) -> None:
        self._settings = settings
        bind_tables(settings.codereview_table)

    def _connection(self) -> Any:
        from pynamodb.connection import Connection

        return Connection(region=self._settings.aws_region, host=self._settings.aws_endpoint_url)

    @staticmethod
    def _stat(tenant_id: str, repository: str, week: str, category: str, severity: str) -> FeedbackStatItem:
        sk = f"{repository_key(repository)}#{week}#{category}#{severity}"
        return FeedbackStatItem(tenant_key(tenant_id, "FEEDBACK"), sk)

    def add_posted(self, tenant_id: str, repository: str, week: str, category: str, severity: str, count: int) -> None:
        self._stat(tenant_id, repository, week, category, severity).update(
            actions=[*_stat_labels(repository, week, category, severity), FeedbackStatItem.posted.add(count)]
        )

    def record_decision(
        self, tenant_id: str, finding: FindingItem, decision: str, reason: str, *, changed: bool, week: str
    ) -> bool:
        """The outcome and the counters it moves, in one transaction; False when the finding was already decided."""
        from pynamodb.transactions import TransactWrite

        learned_pk = tenant_key(tenant_id, "LEARNED", repository_key(finding.repository))
        counter = LearnedStatItem.accepted if decision == "accepted" else LearnedStatItem.rejected
        stat_counter = FeedbackStatItem.accepted if decision == "accepted" else FeedbackStatItem.rejected
        try:
            with TransactWrite(connection=self._connection()) as transaction:
                transaction.update(
                    finding,
                    actions=[
                        FindingItem.outcome.set(decision),
                        FindingItem.outcome_reason.set(reason),
                        FindingItem.decided_at.set(int(time.time())),
                        FindingItem.changed.set(changed),
                    ],
                    condition=(FindingItem.outcome == "pending") & (FindingItem.status == "posted"),
                )
                transaction.update(
                    self._stat(tenant_id, finding.repository, week, finding.category, finding.severity),
                    actions=[
                        *_stat_labels(finding.repository, week, finding.category, finding.severity),
                        stat_counter.add(1),
                    ],
                )
                for sk in (f"cat#{finding.category}", f"pattern#{finding.pattern}", f"fp#{finding.sk}"):
                    transaction.update(
                        LearnedStatItem(learned_pk, sk),
                        actions=[counter.add(1), LearnedStatItem.last_reason.set(reason)],
                    )
        except TransactWriteError as exc:
            reasons = [r.code for r in (exc.cancellation_reasons or []) if r is not None]
            if "ConditionalCheckFailed" in reasons:
                return False
            raise
        return True

    def learned_stats(self, tenant_id: str, repository: str) -> list[tuple[str, str, int, int]]:
        """``(kind, key, accepted, rejected)`` of one repository: kind is ``cat``, ``pattern`` or ``fp``."""
        stats = []
        for item in LearnedStatItem.query(tenant_key(tenant_id, "LEARNED", repository_key(repository))):
            kind, _, key = item.sk.partition("#")
            stats.append((kind, key, int(item.accepted or 0), int(item.rejected or 0)))
        return stats

    def feedback_stats(self, tenant_id: str, repository: str | None) -> list[FeedbackStatItem]:
        condition = None
        if repository is not None:
            condition = FeedbackStatItem.sk.startswith(f"{repository_key(repository)}#")
        return list(FeedbackStatItem.query(tenant_key(tenant_id, "FEEDBACK"), range_key_condition=condition))
