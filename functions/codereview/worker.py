"""The queue consumer: turns each accepted delivery into a review run or a feedback update.

Partial batch failures: a record that fails is retried by SQS (and lands in the DLQ after
``maxReceiveCount``); a record that can never succeed (its registration was deleted) is dropped with a log.
Everything is idempotent on redelivery: runs and executions are named after the delivery.
"""

from __future__ import annotations

import re
import time
from typing import Any

from codereview import wiring
from codereview.domain import ReviewTrigger
from codereview.events import Envelope
from codereview.pipeline import ReviewPipeline
from codereview.registrations import ResolvedRegistration
from codereview.repository import DeliveryRepository
from stratus.errors import Conflict, NotFound
from stratus.flows import StepFunctions
from stratus.observability import instrument_handler, logger

_EXECUTION_NAME = re.compile(r"[^0-9A-Za-z_-]")


def execution_name(trigger: ReviewTrigger) -> str:
    return _EXECUTION_NAME.sub("-", f"{trigger.pr_id}-{trigger.head_sha[:10]}-{trigger.run_id}")[:80]


class DeliveryWorker:
    def __init__(self, pipeline: ReviewPipeline, flows: StepFunctions, deliveries: DeliveryRepository) -> None:
        self.pipeline = pipeline
        self.flows = flows
        self.deliveries = deliveries
        self.settings = pipeline.settings

    def handle(self, envelope: Envelope) -> str:
        try:
            registration = self.pipeline.registrations.resolved(envelope.tenant_id, envelope.registration_id)
        except NotFound:
            logger.warning(
                "delivery for a registration that was deleted; dropped", extra={"delivery": envelope.delivery_id}
            )
            return "dropped"
        outcome = {
            "review": self._review,
            "command": self._command,
            "closed": self._closed,
            "review_comment": self._review_comment,
            "thread": self._thread,
            "installation": self._installation,
        }[envelope.kind](envelope, registration)
        self._done(envelope)
        return outcome

    def _done(self, envelope: Envelope) -> None:
        self.deliveries.mark_done(envelope.tenant_id, envelope.delivery_id)

    def _trigger(
        self, envelope: Envelope, reason: str, *, pr_id: int, number: int, head: str, base: str, full: bool
    ) -> ReviewTrigger:
        assert envelope.repository is not None
        return ReviewTrigger(
            tenant_id=envelope.tenant_id,
            pr_id=pr_id,
            run_id=f"{envelope.received_at_ms:013d}-{envelope.delivery_id}",
            repository=envelope.repository,
            number=number,
            head_sha=head,
            base_sha=base,
            registration_id=envelope.registration_id,
            installation_id=envelope.installation_id,
            reason=reason,  # type: ignore[arg-type]
            full=full,
        )

    def _review(self, envelope: Envelope, registration: ResolvedRegistration) -> str:
        pr = envelope.pull_request
        assert pr is not None
        review = self.pipeline.store.find_review(envelope.tenant_id, pr.id)
        if review is not None and envelope.action == "synchronize":
            # New commits may change lines we commented on: those suggestions count as accepted.
            assert envelope.repository is not None
            self.pipeline.feedback.detect_changes(
                envelope.tenant_id, pr.id, envelope.repository, pr.head_sha, self._github(envelope, registration)
            )
            if review.last_reviewed_sha == pr.head_sha:
                return "already reviewed"
        trigger = self._trigger(
            envelope,
            envelope.action or "opened",
            pr_id=pr.id,
            number=pr.number,
            head=pr.head_sha,
            base=pr.base_sha,
            full=False,
        )
        return self.start(trigger, title=pr.title, url=pr.url)

    def _command(self, envelope: Envelope, registration: ResolvedRegistration) -> str:
        assert envelope.repository is not None and envelope.pr_number is not None
        github = self._github(envelope, registration)
        pull = github.pull_request(envelope.repository, envelope.pr_number)
        if pull.get("state") != "open":
            return "pull request is closed"
        trigger = self._trigger(
            envelope,
            "command",
            pr_id=int(pull["id"]),
            number=envelope.pr_number,
            head=str(pull["head"]["sha"]),
            base=str(pull["base"]["sha"]),
            full=True,
        )
        return self.start(trigger, title=str(pull.get("title") or ""), url=str(pull.get("html_url") or ""))

    def start(self, trigger: ReviewTrigger, *, title: str, url: str) -> str:
        store = self.pipeline.store
        store.upsert_review(trigger, title=title, url=url)
        store.create_run(trigger)
        try:
            execution_arn = self.flows.start_execution(
                self.settings.codereview_state_machine_arn, execution_name(trigger), trigger.model_dump(mode="json")
            )
        except Conflict:
            return "already started"
        store.update_run(trigger.tenant_id, trigger.pr_id, trigger.run_id, execution_arn=execution_arn)
        return "review started"

    def _github(self, envelope: Envelope, registration: ResolvedRegistration) -> Any:
        from codereview.github_access import github_for

        secret = self.pipeline.registrations.secret_of(registration)
        return github_for(self.settings, registration, secret, envelope.installation_id)

    def _closed(self, envelope: Envelope, registration: ResolvedRegistration) -> str:
        pr = envelope.pull_request
        assert pr is not None and envelope.repository is not None
        store = self.pipeline.store
        if store.find_review(envelope.tenant_id, pr.id) is None:
            return "no review of this pull request"
        decided = 0
        if pr.merged:
            github = self._github(envelope, registration)
            feedback = self.pipeline.feedback
            # A push just before the merge may not have been processed yet: look for changed lines first.
            decided = feedback.detect_changes(envelope.tenant_id, pr.id, envelope.repository, pr.head_sha, github)
            decided += feedback.on_closed(envelope.tenant_id, pr.id, envelope.repository, pr.number, True, github)
        store.set_review_state(envelope.tenant_id, pr.id, "merged" if pr.merged else "closed")
        return f"closed; {decided} suggestion(s) decided"

    def _review_comment(self, envelope: Envelope, registration: ResolvedRegistration) -> str:
        pr = envelope.pull_request
        assert pr is not None and envelope.repository is not None
        decided = 0
        for comment in envelope.comments:
            decided += self.pipeline.feedback.on_review_comment(
                envelope.tenant_id, pr.id, envelope.repository, pr.number, comment, self._github(envelope, registration)
            )
        return f"{decided} suggestion(s) decided"

    def _thread(self, envelope: Envelope, registration: ResolvedRegistration) -> str:
        pr = envelope.pull_request
        assert pr is not None
        decided = self.pipeline.feedback.on_thread_resolved(envelope.tenant_id, pr.id, envelope.comments)
        return f"{decided} suggestion(s) decided"

    def _installation(self, envelope: Envelope, registration: ResolvedRegistration) -> str:
        assert envelope.installation_id is not None
        self.pipeline.registrations.record_installation(
            envelope.tenant_id,
            registration.registration_id,
            envelope.installation_id,
            envelope.action or "created",
            envelope.account,
            envelope.repositories,
        )
        return f"installation {envelope.action}"


def _record_handler(record: Any) -> str:
    envelope = Envelope.model_validate_json(record.body)
    logger.append_keys(delivery_id=envelope.delivery_id, github_event=envelope.event, tenant_id=envelope.tenant_id)
    started = time.perf_counter()
    worker = DeliveryWorker(wiring.review_pipeline(), wiring.step_functions(), wiring.delivery_repository())
    outcome = worker.handle(envelope)
    logger.info(
        "delivery processed", extra={"outcome": outcome, "ms": round((time.perf_counter() - started) * 1000, 1)}
    )
    return outcome


@instrument_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=_record_handler, processor=processor, context=context
    )
    return dict(response)
