"""From stage results to one GitHub review: merge, de-duplicate, apply rules and learned preferences,
keep only lines in the diff, cap, then post (or hold for approval) and remember what was posted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from codereview.domain import (
    Finding,
    LearnedPreferences,
    ReviewRules,
    ReviewTrigger,
    Severity,
    severity_rank,
)
from codereview.events import OWN_COMMENT_MARKER
from codereview.feedback import FeedbackService, iso_week
from codereview.prepared import Prepared, SkippedFile
from codereview.repository import ReviewRepository, in_parallel
from stratus.github.client import GitHubClient
from stratus.github.errors import GitHubError, GitHubRejected
from stratus.observability import logger

Disposition = Literal["post", "suppressed", "below-threshold", "outside-diff", "over-limit", "already-posted"]
MARKER = OWN_COMMENT_MARKER
SUMMARY_LISTED = 10


@dataclass
class Candidate:
    finding: Finding
    fingerprint: str
    sources: set[str] = field(default_factory=set)
    disposition: Disposition = "post"
    reason: str | None = None


def merge(findings: Iterable[Finding], repository: str) -> list[Candidate]:
    """One candidate per (file, line, category): the most severe finding wins, sources are combined."""
    merged: dict[tuple[str, int, str], Candidate] = {}
    for finding in findings:
        key = (finding.path, finding.line, finding.category)
        current = merged.get(key)
        if current is None:
            merged[key] = Candidate(finding, finding.fingerprint(repository), {f"{finding.stage}:{finding.source}"})
            continue
        current.sources.add(f"{finding.stage}:{finding.source}")
        if severity_rank(finding.severity) > severity_rank(current.finding.severity):
            merged[key] = Candidate(finding, finding.fingerprint(repository), current.sources)
    by_fingerprint: dict[str, Candidate] = {}
    for candidate in merged.values():
        kept = by_fingerprint.get(candidate.fingerprint)
        if kept is None or severity_rank(candidate.finding.severity) > severity_rank(kept.finding.severity):
            by_fingerprint[candidate.fingerprint] = candidate
    return sorted(
        by_fingerprint.values(),
        key=lambda c: (-severity_rank(c.finding.severity), c.finding.path, c.finding.line, c.fingerprint),
    )


def triage(
    candidates: list[Candidate],
    prepared: Prepared,
    preferences: LearnedPreferences,
    rules: ReviewRules,
    already_posted: set[str],
) -> list[Candidate]:
    """Decide each candidate's fate; at most ``rules.max_comments`` stay ``post``, most severe first."""
    reviewable = {f.path: set(f.reviewable_lines) for f in prepared.files}
    threshold = severity_rank(rules.severity_threshold)
    posted = 0
    for candidate in candidates:
        finding = candidate.finding
        critical = finding.severity == "critical"  # feedback never silences a critical finding
        category = preferences.category(finding.category)
        if candidate.fingerprint in already_posted:
            candidate.disposition, candidate.reason = "already-posted", "posted on an earlier commit"
        elif not critical and candidate.fingerprint in preferences.suppressed_fingerprints:
            candidate.disposition = "suppressed"
            candidate.reason = f"this exact finding was {preferences.suppressed_fingerprints[candidate.fingerprint]}"
        elif not critical and finding.pattern in preferences.suppressed_patterns:
            candidate.disposition = "suppressed"
            candidate.reason = f"{finding.pattern} was {preferences.suppressed_patterns[finding.pattern]}"
        elif not critical and category is not None and category.action == "suppress":
            candidate.disposition = "suppressed"
            decided = category.accepted + category.rejected
            candidate.reason = f"{finding.category} suggestions were accepted {category.accepted} of {decided} times"
        elif severity_rank(finding.severity) < threshold:
            candidate.disposition, candidate.reason = (
                "below-threshold",
                f"below the {rules.severity_threshold} threshold",
            )
        elif (
            category is not None
            and category.action == "raise-threshold"
            and category.minimum_severity is not None
            and severity_rank(finding.severity) < severity_rank(category.minimum_severity)
        ):
            candidate.disposition = "below-threshold"
            candidate.reason = (
                f"feedback raised the {finding.category} threshold to {category.minimum_severity} "
                f"({category.accepted} of {category.accepted + category.rejected} accepted)"
            )
        elif finding.line not in reviewable.get(finding.path, set()):
            candidate.disposition, candidate.reason = "outside-diff", "not on a line this change added"
        elif posted >= rules.max_comments:
            candidate.disposition, candidate.reason = "over-limit", f"more than {rules.max_comments} comments"
        else:
            posted += 1
    return candidates


def comment_body(candidate: Candidate) -> str:
    finding = candidate.finding
    origin = finding.source if not finding.offline else "offline heuristic (no language model)"
    lines = [
        f"**{finding.severity}** · {finding.category}" + (f" · `{finding.rule}`" if finding.rule else ""),
        "",
        finding.message,
    ]
    if finding.suggestion and "\n" not in finding.suggestion.strip("\n"):
        lines += ["", "```suggestion", finding.suggestion.rstrip("\n"), "```"]
    lines += [
        "",
        f"<sub>Stratus {finding.stage} stage · {origin}</sub>",
        f"{MARKER} fingerprint={candidate.fingerprint} -->",
    ]
    return "\n".join(lines)


def fingerprint_of(body: str) -> str | None:
    start = body.find(f"{MARKER} fingerprint=")
    if start < 0:
        return None
    rest = body[start + len(MARKER) + len(" fingerprint=") :]
    return rest.split(" ", 1)[0].strip() or None


def _headline(prepared: Prepared, posting: Sequence[Candidate]) -> list[str]:
    by_severity: dict[Severity, int] = {}
    for candidate in posting:
        by_severity[candidate.finding.severity] = by_severity.get(candidate.finding.severity, 0) + 1
    ordered = sorted(by_severity.items(), key=lambda item: -severity_rank(item[0]))
    counts = ", ".join(f"{count} {severity}" for severity, count in ordered)
    scope = "the whole pull request" if prepared.scope == "full" else f"the changes {prepared.scope}"
    found = f"{len(posting)} new comment(s)" + (f": {counts}." if counts else ".")
    return [
        f"### Stratus code review of {scope} at {prepared.trigger.head_sha[:7]}",
        "",
        found if posting else "No new findings on this change.",
    ]


def _offline_lines(offline_stages: Sequence[str]) -> list[str]:
    lines = []
    if "logic" in offline_stages:
        lines.append("_Offline: logic findings come from deterministic heuristics, not a language model._")
    if "security" in offline_stages:
        lines.append("_Offline: the security stage ran its rules without a language model._")
    return lines


def _unposted_lines(prepared: Prepared, candidates: Sequence[Candidate]) -> list[str]:
    """Serious findings off the diff, and counts of what feedback or the comment limit held back."""
    lines: list[str] = []
    outside = [
        c
        for c in candidates
        if c.disposition == "outside-diff" and severity_rank(c.finding.severity) >= severity_rank("high")
    ]
    if outside:
        lines += ["", "**Not on a changed line** (cannot be commented inline):"]
        lines += [
            f"- `{c.finding.path}:{c.finding.line}` {c.finding.severity}: {c.finding.message}"
            for c in outside[:SUMMARY_LISTED]
        ]
    suppressed = sum(1 for c in candidates if c.disposition == "suppressed")
    if suppressed:
        lines += ["", f"{suppressed} finding(s) not posted because of this repository's feedback."]
    over = sum(1 for c in candidates if c.disposition == "over-limit")
    if over:
        lines += ["", f"{over} more finding(s) past the limit of {prepared.rules.max_comments} comments."]
    return lines


def _unread_lines(prepared: Prepared) -> list[str]:
    """Files the review skipped, and files past the model budget."""
    lines: list[str] = []
    skipped = list(prepared.skipped)
    if skipped:
        listed = "Skipped: " + ", ".join(f"`{s.path}` ({s.reason})" for s in skipped[:SUMMARY_LISTED])
        if len(skipped) > SUMMARY_LISTED:
            listed += f" and {len(skipped) - SUMMARY_LISTED} more"
        lines += ["", listed]
    if prepared.overflow:
        lines += [
            "",
            "Past the model budget (parsers and rules only): "
            + ", ".join(f"`{path}`" for path in prepared.overflow[:SUMMARY_LISTED]),
        ]
    return lines


def summary_body(
    prepared: Prepared,
    candidates: Sequence[Candidate],
    posting: Sequence[Candidate],
    stage_notes: Sequence[str],
    offline_stages: Sequence[str],
) -> str:
    lines = [
        *_headline(prepared, posting),
        *_offline_lines(offline_stages),
        *_unposted_lines(prepared, candidates),
        *_unread_lines(prepared),
        *(f"- {note}" for note in stage_notes),
    ]
    return "\n".join(lines)


@dataclass
class PostResult:
    review_id: int
    comment_ids: dict[str, int]
    inline: bool


def post_review(
    github: GitHubClient,
    trigger: ReviewTrigger,
    body: str,
    posting: Sequence[Candidate],
) -> PostResult:
    """One review with every inline comment; if GitHub rejects a line, the findings go into the body instead."""
    comments = [
        {"path": c.finding.path, "line": c.finding.line, "side": "RIGHT", "body": comment_body(c)} for c in posting
    ]
    try:
        review = github.create_review(
            trigger.repository, trigger.number, commit_id=trigger.head_sha, body=body, comments=comments
        )
        inline = True
    except GitHubRejected as exc:
        if exc.status_code != 422 or not comments:
            raise
        # GitHub refuses the whole review when one line is not in the diff (the branch moved meanwhile).
        logger.warning(
            "GitHub rejected an inline comment; posting the findings in the review body", extra={"detail": exc.detail}
        )
        listed = "\n".join(
            f"- `{c.finding.path}:{c.finding.line}` **{c.finding.severity}** {c.finding.message}" for c in posting
        )
        review = github.create_review(
            trigger.repository, trigger.number, commit_id=trigger.head_sha, body=f"{body}\n\n{listed}", comments=()
        )
        inline = False
    review_id = int(review["id"])
    ids: dict[str, int] = {}
    if inline and comments:
        try:
            posted_comments = github.review_comments(trigger.repository, trigger.number, review_id)
        except GitHubError:
            # The review is posted: never post it again; only the comment ids (for feedback) are lost.
            logger.exception("could not list the comments of a posted review", extra={"review_id": review_id})
            posted_comments = []
        for comment in posted_comments:
            fingerprint = fingerprint_of(str(comment.get("body") or ""))
            if fingerprint is not None:
                ids[fingerprint] = int(comment["id"])
    return PostResult(review_id=review_id, comment_ids=ids, inline=inline)


def publish_candidates(
    *,
    github: GitHubClient,
    store: ReviewRepository,
    feedback: FeedbackService,
    trigger: ReviewTrigger,
    body: str,
    posting: Sequence[Candidate],
) -> PostResult:
    """Post claimed candidates and record them as posted; on failure the claims are released."""
    try:
        result = post_review(github, trigger, body, posting)
    except Exception:
        in_parallel(
            lambda c: store.set_finding_status(
                trigger.tenant_id, trigger.pr_id, c.fingerprint, "failed", "posting failed"
            ),
            list(posting),
        )
        raise
    week = iso_week()
    store.mark_posted(
        trigger,
        [(c.fingerprint, c.finding, result.comment_ids.get(c.fingerprint)) for c in posting],
        review_id=result.review_id,
        week=week,
    )
    feedback.record_posted(
        trigger.tenant_id, trigger.repository, [(c.finding.category, c.finding.severity) for c in posting], week
    )
    store.add_posted_review(trigger.tenant_id, trigger.pr_id, result.review_id)
    return result


def skipped_list(skipped: Sequence[SkippedFile]) -> list[dict[str, str]]:
    return [{"path": s.path, "reason": s.reason} for s in skipped]
