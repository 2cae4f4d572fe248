"""The feedback loop: whether each posted suggestion was accepted, acceptance analytics, learned preferences.

A suggestion is accepted when a later commit changes the commented line (applying a suggestion does),
when its comment gets more 👍 than 👎, or when its thread is resolved after a change; it is rejected on
more 👎, on a thread resolved with no change, or when the pull request is merged without a change.
Each outcome is written once (a conditional write), with the counters it moves, in one transaction.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from codereview.domain import (
    CATEGORIES,
    CategoryPreference,
    LearnedPreferences,
    Severity,
    raise_severity,
)
from codereview.events import CommentRef
from codereview.items import FindingItem
from codereview.repository import FeedbackRepository, ReviewRepository
from codereview.schemas import AcceptanceRowView, SuggestionAnalyticsView
from codereview.settings import CodeReviewServiceSettings
from stratus.observability import logger

if TYPE_CHECKING:
    from stratus.github.client import GitHubClient

Decision = Literal["accepted", "rejected"]
MAX_COMPARED_COMMITS = 5


def iso_week(timestamp: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if timestamp is None else timestamp, UTC)
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def reaction_decision(thumbs_up: int, thumbs_down: int) -> tuple[Decision, str] | None:
    if thumbs_up > thumbs_down:
        return "accepted", f"👍 on the comment ({thumbs_up})"
    if thumbs_down > thumbs_up:
        return "rejected", f"👎 on the comment ({thumbs_down})"
    return None


def learn_preferences(
    stats: Iterable[tuple[str, str, int, int]],
    *,
    severity_threshold: Severity,
    suppress_after: int,
    min_feedback: int,
) -> LearnedPreferences:
    """Preferences from ``(kind, key, accepted, rejected)`` counters of one repository.

    - a fingerprint rejected and never accepted is not posted again;
    - a rule (pattern) rejected ``suppress_after`` times and never accepted is suppressed;
    - a category with ``min_feedback`` decisions is suppressed below 25% acceptance, and held to one
      severity above the repository's threshold below 50%.
    """
    patterns: dict[str, str] = {}
    fingerprints: dict[str, str] = {}
    categories: list[CategoryPreference] = []
    for kind, key, accepted, rejected in stats:
        decided = accepted + rejected
        if kind == "fp" and rejected and not accepted:
            fingerprints[key] = f"rejected {rejected} time(s) before"
        elif kind == "pattern" and "/" in key:
            if rejected >= suppress_after and not accepted:
                patterns[key] = f"rejected {rejected} of {decided} times"
            elif decided >= 2 * suppress_after and accepted / decided < 0.2:
                patterns[key] = f"accepted only {accepted} of {decided} times"
        elif kind == "cat" and key in CATEGORIES and decided >= min_feedback:
            rate = accepted / decided
            if rate < 0.25:
                categories.append(
                    CategoryPreference(category=key, accepted=accepted, rejected=rejected, action="suppress")
                )  # type: ignore[arg-type]
            elif rate < 0.5:
                categories.append(
                    CategoryPreference(
                        category=key,  # type: ignore[arg-type]
                        accepted=accepted,
                        rejected=rejected,
                        action="raise-threshold",
                        minimum_severity=raise_severity(severity_threshold),
                    )
                )
            else:
                categories.append(CategoryPreference(category=key, accepted=accepted, rejected=rejected, action="keep"))  # type: ignore[arg-type]
    return LearnedPreferences(
        suppressed_patterns=patterns,
        suppressed_fingerprints=fingerprints,
        categories=tuple(sorted(categories, key=lambda c: c.category)),
    )


def _row(key: str, counts: dict[str, int]) -> AcceptanceRowView:
    decided = counts["accepted"] + counts["rejected"]
    return AcceptanceRowView(
        key=key,
        posted=counts["posted"],
        accepted=counts["accepted"],
        rejected=counts["rejected"],
        pending=max(0, counts["posted"] - decided),
        acceptance_rate=round(counts["accepted"] / decided, 4) if decided else None,
    )


class FeedbackService:
    def __init__(
        self, settings: CodeReviewServiceSettings, store: ReviewRepository, repository: FeedbackRepository
    ) -> None:
        self._settings = settings
        self._store = store
        self._repository = repository

    def record_posted(self, tenant_id: str, repository: str, posted: Iterable[tuple[str, str]], week: str) -> None:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for category, severity in posted:
            counts[(category, severity)] += 1
        for (category, severity), count in counts.items():
            self._repository.add_posted(tenant_id, repository, week, category, severity, count)

    def decide(
        self, tenant_id: str, finding: FindingItem, decision: Decision, reason: str, *, changed: bool = False
    ) -> bool:
        """Record the outcome of a posted finding once; False when it was already decided."""
        if finding.status != "posted" or finding.outcome != "pending":
            return False
        week = finding.week or iso_week(finding.posted_at)
        if not self._repository.record_decision(tenant_id, finding, decision, reason, changed=changed, week=week):
            return False
        logger.info(
            "suggestion decided",
            extra={"fingerprint": finding.sk, "decision": decision, "reason": reason, "pattern": finding.pattern},
        )
        return True

    def preferences(self, tenant_id: str, repository: str, severity_threshold: Severity) -> LearnedPreferences:
        return learn_preferences(
            self._repository.learned_stats(tenant_id, repository),
            severity_threshold=severity_threshold,
            suppress_after=self._settings.codereview_suppress_after_rejections,
            min_feedback=self._settings.codereview_min_feedback,
        )

    def analytics(
        self, tenant_id: str, repository: str | None = None, since_week: str | None = None
    ) -> SuggestionAnalyticsView:
        dimensions: dict[str, dict[str, dict[str, int]]] = {
            name: defaultdict(lambda: {"posted": 0, "accepted": 0, "rejected": 0})
            for name in ("total", "repository", "category", "severity", "week")
        }
        for item in self._repository.feedback_stats(tenant_id, repository):
            if since_week is not None and item.week < since_week:
                continue
            keys = {
                "total": "all",
                "repository": item.repository,
                "category": item.category,
                "severity": item.severity,
                "week": item.week,
            }
            for name, key in keys.items():
                counts = dimensions[name][key]
                counts["posted"] += int(item.posted or 0)
                counts["accepted"] += int(item.accepted or 0)
                counts["rejected"] += int(item.rejected or 0)

        def rows(name: str) -> list[AcceptanceRowView]:
            return [_row(key, counts) for key, counts in sorted(dimensions[name].items())]

        totals = dimensions["total"].get("all", {"posted": 0, "accepted": 0, "rejected": 0})
        return SuggestionAnalyticsView(
            totals=_row("all", totals),
            by_repository=rows("repository"),
            by_category=rows("category"),
            by_severity=rows("severity"),
            by_week=rows("week"),
        )

    def _ours(self, tenant_id: str, pr_id: int, comment_id: int) -> FindingItem | None:
        pointer = self._store.comment(tenant_id, comment_id)
        if pointer is None or int(pointer.pr_id) != pr_id:
            return None
        return self._store.finding(tenant_id, pr_id, pointer.fingerprint)

    def on_thread_resolved(self, tenant_id: str, pr_id: int, comments: list[CommentRef]) -> int:
        decided = 0
        for comment in comments:
            finding = self._ours(tenant_id, pr_id, comment.id)
            if finding is None or finding.outcome != "pending":
                continue
            by_reaction = reaction_decision(comment.thumbs_up, comment.thumbs_down)
            if by_reaction is not None:
                decided += self.decide(tenant_id, finding, *by_reaction)
            elif finding.changed:
                decided += self.decide(tenant_id, finding, "accepted", "thread resolved after a change", changed=True)
            else:
                decided += self.decide(tenant_id, finding, "rejected", "thread resolved without a change")
        return decided

    def on_review_comment(
        self, tenant_id: str, pr_id: int, repository: str, number: int, comment: CommentRef, github: GitHubClient
    ) -> int:
        """A reply in (or an edit of) one of our threads: read the reactions on our comment."""
        root = comment.in_reply_to_id or comment.id
        finding = self._ours(tenant_id, pr_id, root)
        if finding is None or finding.outcome != "pending":
            return 0
        reactions = self._reactions(github, repository, number)
        up, down = reactions.get(root, (0, 0))
        by_reaction = reaction_decision(up, down)
        return int(by_reaction is not None and self.decide(tenant_id, finding, *by_reaction))

    def on_closed(
        self, tenant_id: str, pr_id: int, repository: str, number: int, merged: bool, github: GitHubClient
    ) -> int:
        pending = [f for f in self._store.findings(tenant_id, pr_id) if f.status == "posted" and f.outcome == "pending"]
        if not pending or not merged:
            return 0
        reactions = self._reactions(github, repository, number)
        decided = 0
        for finding in pending:
            up, down = reactions.get(int(finding.comment_id or 0), (0, 0))
            by_reaction = reaction_decision(up, down)
            if by_reaction is not None:
                decided += self.decide(tenant_id, finding, *by_reaction)
            else:
                decided += self.decide(tenant_id, finding, "rejected", "merged without a change")
        return decided

    @staticmethod
    def _reactions(github: GitHubClient, repository: str, number: int) -> dict[int, tuple[int, int]]:
        found: dict[int, tuple[int, int]] = {}
        for comment in github.pull_request_comments(repository, number):
            reactions = comment.get("reactions") or {}
            found[int(comment["id"])] = (int(reactions.get("+1", 0)), int(reactions.get("-1", 0)))
        return found

    def detect_changes(self, tenant_id: str, pr_id: int, repository: str, head_sha: str, github: GitHubClient) -> int:
        """Accept pending suggestions whose commented line a later commit changed (or whose file went away)."""
        from stratus.github.diff import parse_patch

        pending = [
            f
            for f in self._store.findings(tenant_id, pr_id)
            if f.status == "posted" and f.outcome == "pending" and f.commit_sha != head_sha
        ]
        by_commit: dict[str, list[FindingItem]] = defaultdict(list)
        for finding in pending:
            by_commit[finding.commit_sha].append(finding)
        decided = 0
        for commit, findings in sorted(by_commit.items())[:MAX_COMPARED_COMMITS]:
            comparison = github.compare(repository, commit, head_sha)
            changed_lines: dict[str, set[int] | None] = {}
            for entry in comparison.get("files") or []:
                path = str(entry.get("previous_filename") or entry.get("filename"))
                if entry.get("status") in ("removed", "renamed"):
                    changed_lines[path] = None  # the file is gone under this name: every line changed
                else:
                    changed_lines[path] = set(parse_patch(entry.get("patch")).changed_old_lines)
            for finding in findings:
                if finding.path not in changed_lines:
                    continue
                lines = changed_lines[finding.path]
                if lines is None or int(finding.line) in lines:
                    decided += self.decide(
                        tenant_id, finding, "accepted", "a later commit changed the commented line", changed=True
                    )
        return decided
