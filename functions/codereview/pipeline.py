"""The review workflow's steps: prepare → syntax → logic (per chunk) → security (per chunk) → publish.

Each step reads what it needs from S3/DynamoDB and returns a small summary to Step Functions.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from codereview.domain import Finding, ReviewTrigger, StageName
from codereview.feedback import FeedbackService
from codereview.files import CONTENT_LANGUAGES, ReviewablePatch, chunk_patches, language_of, skip_reason
from codereview.github_access import github_for
from codereview.prepared import Prepared, PreparedFile, RunDocuments, SkippedFile, StageResult, StageSummary
from codereview.publishing import Candidate, merge, publish_candidates, skipped_list, summary_body, triage
from codereview.registrations import RegistrationService
from codereview.repository import ReviewRepository, in_parallel
from codereview.rules import RulesService
from codereview.settings import CodeReviewServiceSettings
from codereview.stages.heuristics import offline_logic_findings
from codereview.stages.security import security_rule_findings
from codereview.stages.syntax import syntax_findings
from stratus.errors import Conflict, UpstreamFailed, UpstreamUnavailable
from stratus.github.client import GitHubClient
from stratus.github.diff import PatchError, parse_patch
from stratus.github.errors import GitHubRejected
from stratus.observability import logger

CONTENT_FETCH_WORKERS = 8


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


class ReviewPipeline:
    def __init__(
        self,
        settings: CodeReviewServiceSettings,
        *,
        store: ReviewRepository,
        rules: RulesService,
        registrations: RegistrationService,
        feedback: FeedbackService,
        documents: RunDocuments,
    ) -> None:
        self.settings = settings
        self.store = store
        self.rules = rules
        self.registrations = registrations
        self.feedback = feedback
        self.documents = documents

    def github(self, trigger: ReviewTrigger) -> GitHubClient:
        registration = self.registrations.resolved(trigger.tenant_id, trigger.registration_id)
        secret = self.registrations.secret_of(registration)
        return github_for(self.settings, registration, secret, trigger.installation_id)

    def prepare(self, trigger: ReviewTrigger) -> dict[str, Any]:
        store = self.store
        review = store.find_review(trigger.tenant_id, trigger.pr_id)
        if review is None:
            return {"skip": True, "reason": "the review no longer exists"}
        github = self.github(trigger)
        pull = github.pull_request(trigger.repository, trigger.number)
        if pull.get("state") != "open":
            return self._skip(trigger, "skipped", "the pull request is closed")
        if str(pull.get("head", {}).get("sha")) != trigger.head_sha:
            return self._skip(trigger, "superseded", "newer commits were pushed; a newer run reviews them")
        store.update_run(trigger.tenant_id, trigger.pr_id, trigger.run_id, status="running", current_stage="prepare")
        store.set_review_state(trigger.tenant_id, trigger.pr_id, "reviewing")

        rules = self.rules.get(trigger.tenant_id, trigger.repository).rules
        preferences = self.feedback.preferences(trigger.tenant_id, trigger.repository, rules.severity_threshold)

        pr_files = github.pull_request_files(trigger.repository, trigger.number)[: self.settings.codereview_max_files]
        scope_patches, scope = self._scope(github, trigger, review.last_reviewed_sha, pr_files)
        files: list[PreparedFile] = []
        skipped: list[SkippedFile] = []
        for entry in pr_files:
            path = str(entry["filename"])
            reason = skip_reason(entry, rules.ignored_paths)
            if reason is not None:
                skipped.append(SkippedFile(path=path, reason=reason))
                continue
            if path not in scope_patches:
                continue  # unchanged since the last reviewed commit
            try:
                pr_patch = parse_patch(entry.get("patch"))
                scope_patch = parse_patch(scope_patches[path])
            except PatchError as exc:
                skipped.append(SkippedFile(path=path, reason=f"unreadable diff: {exc}"))
                continue
            files.append(
                PreparedFile(
                    path=path,
                    status=str(entry.get("status") or "modified"),
                    previous_path=entry.get("previous_filename"),
                    language=language_of(path),
                    patch=scope_patches[path] or "",
                    reviewable_lines=sorted(scope_patch.added_lines & pr_patch.right_lines),
                    commentable_lines=sorted(pr_patch.right_lines),
                )
            )
        self._fetch_contents(github, trigger, files)

        from stratus.ai import count_tokens

        chunks, overflow = chunk_patches(
            (ReviewablePatch(f.path, f.status, parse_patch(f.patch)) for f in files if f.reviewable_lines),
            self.settings.codereview_chunk_token_budget,
            count_tokens,
            self.settings.codereview_max_chunks,
        )
        prepared = Prepared(
            trigger=trigger,
            scope=scope,
            always_post=not review.posted_review_ids or trigger.reason == "command",
            rules=rules,
            preferences=preferences,
            files=files,
            skipped=skipped,
            chunks=chunks,
            overflow=overflow,
        )
        key = self.documents.save_prepared(trigger.tenant_id, prepared)
        store.update_run(
            trigger.tenant_id,
            trigger.pr_id,
            trigger.run_id,
            scope=scope,
            skipped_files=skipped_list(skipped),
            preferences=preferences.model_dump(mode="json"),
            current_stage="syntax",
        )
        return {
            "skip": False,
            "key": key,
            "chunks": list(range(len(chunks))),
            "tenant_id": trigger.tenant_id,
            "pr_id": trigger.pr_id,
            "run_id": trigger.run_id,
        }

    def _skip(self, trigger: ReviewTrigger, status: str, reason: str) -> dict[str, Any]:
        self.store.update_run(
            trigger.tenant_id, trigger.pr_id, trigger.run_id, status=status, error=reason, finished_at=int(time.time())
        )
        return {"skip": True, "reason": reason}

    def _scope(
        self, github: GitHubClient, trigger: ReviewTrigger, last_reviewed: str | None, pr_files: list[dict[str, Any]]
    ) -> tuple[dict[str, str | None], str]:
        """The patches under review: the whole pull request, or what changed since the last reviewed commit."""
        full = {str(e["filename"]): e.get("patch") for e in pr_files}
        if trigger.full or not last_reviewed or last_reviewed == trigger.head_sha:
            return full, "full"
        try:
            comparison = github.compare(trigger.repository, last_reviewed, trigger.head_sha)
        except GitHubRejected as exc:
            if exc.status_code in (404, 422):  # force-pushed away: review everything, fingerprints prevent repeats
                return full, "full"
            raise
        if comparison.get("status") in ("diverged", "behind"):
            return full, "full"
        since = {
            str(e["filename"]): e.get("patch") for e in comparison.get("files") or [] if e.get("status") != "removed"
        }
        return since, f"since {last_reviewed[:7]}"

    def _fetch_contents(self, github: GitHubClient, trigger: ReviewTrigger, files: list[PreparedFile]) -> None:
        wanted = [f for f in files if f.language in CONTENT_LANGUAGES]
        limit = self.settings.codereview_max_file_bytes

        def fetch(item: PreparedFile) -> None:
            raw = github.file_content(trigger.repository, item.path, trigger.head_sha)
            if raw is not None and len(raw) <= limit and b"\x00" not in raw[:8000]:
                item.content = raw.decode("utf-8", errors="replace")

        with ThreadPoolExecutor(max_workers=CONTENT_FETCH_WORKERS) as pool:
            list(pool.map(fetch, wanted))

    def _summary(self, prepared: Prepared, result: StageResult) -> dict[str, Any]:
        trigger = prepared.trigger
        key = self.documents.save_result(trigger.tenant_id, trigger.pr_id, trigger.run_id, result)
        return StageSummary(
            stage=result.stage,
            chunk=result.chunk,
            status=result.status,
            findings=len(result.findings),
            duration_ms=result.duration_ms,
            offline=result.offline,
            key=key,
        ).model_dump()

    def syntax(self, tenant_id: str, key: str) -> dict[str, Any]:
        prepared = self.documents.load_prepared(tenant_id, key)
        started = time.perf_counter()
        if not prepared.rules.stages.syntax:
            return self._summary(prepared, StageResult(stage="syntax", status="disabled"))
        findings, notes = syntax_findings(prepared.files, self.settings.codereview_lint_timeout_s)
        trigger = prepared.trigger
        self.store.update_run(trigger.tenant_id, trigger.pr_id, trigger.run_id, current_stage="logic")
        return self._summary(
            prepared, StageResult(stage="syntax", findings=findings, duration_ms=_elapsed_ms(started), notes=notes)
        )

    def model_stage(self, stage: StageName, tenant_id: str, key: str, chunk_index: int) -> dict[str, Any]:
        from codereview.stages.model import parse_findings, review_request
        from stratus.ai import get_chat_model

        prepared = self.documents.load_prepared(tenant_id, key)
        started = time.perf_counter()
        if not prepared.rules.stages.enabled(stage):
            return self._summary(prepared, StageResult(stage=stage, chunk=chunk_index, status="disabled"))
        chunk = prepared.chunks[chunk_index]
        trigger = prepared.trigger
        self.store.update_run(trigger.tenant_id, trigger.pr_id, trigger.run_id, current_stage=stage)
        findings: list[Finding] = []
        notes: list[str] = []
        if stage == "security":
            for path in chunk.paths:
                item = prepared.file(path)
                if item is not None:
                    findings.extend(security_rule_findings(item, chunk.lines_of(path)))
        model = get_chat_model(self.settings)
        offline = False
        try:
            result = model.generate(review_request(stage, prepared, chunk, self.settings.model_max_tokens))
        except (UpstreamFailed, UpstreamUnavailable) as exc:
            notes.append(f"{stage} stage, part {chunk_index + 1}: the model failed ({exc.detail}); rules only")
            logger.warning("model stage failed", extra={"stage": stage, "detail": exc.detail})
        else:
            if result.usage.offline:
                offline = True
                if stage == "logic":
                    for path in chunk.paths:
                        item = prepared.file(path)
                        if item is not None:
                            findings.extend(offline_logic_findings(item, chunk.lines_of(path)))
            else:
                parsed, dropped = parse_findings(result.text, stage, prepared, chunk)
                findings.extend(parsed)
                if dropped:
                    notes.append(f"{stage} stage: {dropped} model finding(s) were malformed or outside the diff")
        return self._summary(
            prepared,
            StageResult(
                stage=stage,
                chunk=chunk_index,
                findings=findings,
                duration_ms=_elapsed_ms(started),
                offline=offline,
                model=model.model_id,
                notes=notes,
            ),
        )

    def publish(self, tenant_id: str, key: str, summaries: list[dict[str, Any]]) -> dict[str, Any]:
        prepared = self.documents.load_prepared(tenant_id, key)
        trigger = prepared.trigger
        results = [self.documents.load_result(tenant_id, str(s["key"])) for s in summaries]
        candidates = self._triage(prepared, results)
        hold = prepared.rules.mode == "hold"
        posting = self._claim(trigger, candidates, "held" if hold else "posting")
        self.store.update_run(
            tenant_id, trigger.pr_id, trigger.run_id, stages=_stage_report(results), current_stage="publish"
        )
        if hold and posting:
            return self._hold(trigger, len(posting))
        if not posting and (hold or not prepared.always_post):
            return self._clean(trigger)
        offline_stages = sorted({r.stage for r in results if r.offline})
        notes = [note for r in results for note in r.notes]
        body = summary_body(prepared, candidates, posting, notes, offline_stages)
        return self._post(trigger, body, posting)

    def _triage(self, prepared: Prepared, results: list[StageResult]) -> list[Candidate]:
        """Every finding with its disposition; those not posted now are recorded with it."""
        trigger = prepared.trigger
        store = self.store
        already = {f.sk for f in store.findings(trigger.tenant_id, trigger.pr_id) if f.status in ("posted", "posting")}
        candidates = triage(
            merge((f for r in results for f in r.findings), trigger.repository),
            prepared,
            prepared.preferences,
            prepared.rules,
            already,
        )
        in_parallel(
            lambda c: store.record_finding(trigger, c.fingerprint, c.finding, c.disposition, c.reason),
            [c for c in candidates if c.disposition not in ("post", "already-posted")],
        )
        return candidates

    def _claim(self, trigger: ReviewTrigger, candidates: list[Candidate], status: str) -> list[Candidate]:
        wanted = [c for c in candidates if c.disposition == "post"]
        claimed = in_parallel(lambda c: self.store.claim(trigger, c.fingerprint, c.finding, status), wanted)
        return [c for c, ok in zip(wanted, claimed, strict=True) if ok]

    def _finish_run(self, trigger: ReviewTrigger, status: str) -> None:
        self.store.update_run(
            trigger.tenant_id,
            trigger.pr_id,
            trigger.run_id,
            status=status,
            finished_at=int(time.time()),
            current_stage=None,
        )

    def _hold(self, trigger: ReviewTrigger, drafted: int) -> dict[str, Any]:
        self._supersede_held(trigger)
        self._finish_run(trigger, "held")
        self.store.set_review_state(trigger.tenant_id, trigger.pr_id, "held", held_run_id=trigger.run_id)
        return {"status": "held", "findings": drafted}

    def _clean(self, trigger: ReviewTrigger) -> dict[str, Any]:
        self.store.mark_reviewed(trigger.tenant_id, trigger.pr_id, trigger.run_id, trigger.head_sha)
        self._finish_run(trigger, "clean")
        self.store.set_review_state(trigger.tenant_id, trigger.pr_id, "clean")
        return {"status": "clean", "findings": 0}

    def _post(self, trigger: ReviewTrigger, body: str, posting: list[Candidate]) -> dict[str, Any]:
        result = publish_candidates(
            github=self.github(trigger),
            store=self.store,
            feedback=self.feedback,
            trigger=trigger,
            body=body,
            posting=posting,
        )
        self.store.mark_reviewed(trigger.tenant_id, trigger.pr_id, trigger.run_id, trigger.head_sha)
        self.store.update_run(
            trigger.tenant_id,
            trigger.pr_id,
            trigger.run_id,
            status="posted",
            review_id=result.review_id,
            comment_ids=sorted(result.comment_ids.values()),
            finished_at=int(time.time()),
            current_stage=None,
        )
        self.store.set_review_state(trigger.tenant_id, trigger.pr_id, "posted")
        return {"status": "posted", "review_id": result.review_id, "comments": len(result.comment_ids)}

    def _supersede_held(self, trigger: ReviewTrigger) -> None:
        """A newer draft replaces an older one still waiting for approval."""
        for finding in self.store.findings(trigger.tenant_id, trigger.pr_id):
            if finding.status == "held" and finding.run_id != trigger.run_id:
                self.store.set_finding_status(
                    trigger.tenant_id, trigger.pr_id, finding.sk, "superseded", "a newer commit was reviewed"
                )

    def approve(self, tenant_id: str, pr_id: int) -> dict[str, Any]:
        """Post the draft held for approval (hold mode)."""
        review = self.store.review(tenant_id, pr_id)
        if review.state != "held" or not review.held_run_id:
            raise Conflict(f"pull request {pr_id} has no review waiting for approval (state: {review.state})")
        run_id = str(review.held_run_id)
        prepared = self.documents.load_prepared(tenant_id, _prepared_key(pr_id, run_id))
        trigger = prepared.trigger
        held = [f for f in self.store.findings(tenant_id, pr_id) if f.status == "held" and f.run_id == run_id]
        drafted = [
            Candidate(
                Finding(
                    path=item.path,
                    line=int(item.line),
                    severity=item.severity,  # type: ignore[arg-type]
                    category=item.category,  # type: ignore[arg-type]
                    message=item.message,
                    suggestion=item.suggestion,
                    rule=item.rule,
                    stage=item.stage,  # type: ignore[arg-type]
                    source=item.source,  # type: ignore[arg-type]
                    offline=bool(item.offline),
                ),
                item.sk,
                {f"{item.stage}:{item.source}"},
            )
            for item in held
        ]
        claimed = in_parallel(lambda c: self.store.claim(trigger, c.fingerprint, c.finding), drafted)
        posting = [c for c, ok in zip(drafted, claimed, strict=True) if ok]
        run = self.store.run(tenant_id, pr_id, run_id)
        stages = _loads(run.stages)
        offline_stages = sorted(
            name for name, value in stages.items() if isinstance(value, dict) and value.get("offline")
        )
        body = summary_body(prepared, posting, posting, ["Approved by a maintainer before posting."], offline_stages)
        result = publish_candidates(
            github=self.github(trigger),
            store=self.store,
            feedback=self.feedback,
            trigger=trigger,
            body=body,
            posting=posting,
        )
        self.store.mark_reviewed(tenant_id, pr_id, run_id, trigger.head_sha)
        self.store.update_run(
            tenant_id,
            pr_id,
            run_id,
            status="posted",
            review_id=result.review_id,
            comment_ids=sorted(result.comment_ids.values()),
        )
        self.store.set_review_state(tenant_id, pr_id, "posted", held_run_id=None)
        return {"status": "posted", "review_id": result.review_id, "comments": len(result.comment_ids)}

    def fail(self, trigger: ReviewTrigger, error: dict[str, Any]) -> dict[str, Any]:
        cause = str(error.get("Cause") or "")
        message = cause
        try:
            import json

            message = str(json.loads(cause).get("errorMessage") or cause)
        except (ValueError, AttributeError):
            pass
        detail = f"{error.get('Error', 'Error')}: {message}"[:1000]
        logger.warning("review run failed", extra={"run_id": trigger.run_id, "error": detail})
        try:
            self.store.update_run(
                trigger.tenant_id,
                trigger.pr_id,
                trigger.run_id,
                status="failed",
                error=detail,
                finished_at=int(time.time()),
                current_stage=None,
            )
            self.store.set_review_state(trigger.tenant_id, trigger.pr_id, "failed")
        except Exception:  # the failure is already logged; a missing record must not fail the failure path
            logger.exception("could not record the failed run")
        return {"status": "failed", "error": detail}


def _prepared_key(pr_id: int, run_id: str) -> str:
    from codereview.prepared import run_prefix

    return f"{run_prefix(pr_id, run_id)}/prepared.json"


def _loads(text: str | None) -> dict[str, Any]:
    import json

    value = json.loads(text or "{}")
    return value if isinstance(value, dict) else {}


def _stage_report(results: list[StageResult]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for result in results:
        entry = report.setdefault(
            result.stage,
            {"status": "done", "findings": 0, "duration_ms": 0.0, "parts": 0, "offline": False, "notes": []},
        )
        entry["findings"] += len(result.findings)
        entry["duration_ms"] = round(max(entry["duration_ms"], result.duration_ms), 1)
        entry["parts"] += 1
        entry["offline"] = entry["offline"] or result.offline
        entry["notes"] += result.notes
        if result.status == "disabled":
            entry["status"] = "disabled"
        if result.model:
            entry["model"] = result.model
    return report
