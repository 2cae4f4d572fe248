"""The webhook acknowledgement: verify, classify, record the delivery once, enqueue. Nothing slow happens here.

Order matters: the signature header must exist, the registration is found from headers alone, the
signature is checked against its secret, and only then is the body parsed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codereview.events import Envelope, Ignored, Ping, classify
from codereview.registrations import RegistrationService, hook_target
from codereview.repository import DeliveryRepository
from codereview.settings import CodeReviewServiceSettings
from stratus.errors import BadRequest, Unauthorized, UpstreamUnavailable
from stratus.observability import logger
from stratus.queues import MessageQueue

MAX_DELIVERY_ID = 100


@dataclass(frozen=True)
class DeliveryAnswer:
    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name.lower())
    return value.strip() if value is not None and value.strip() else None


class WebhookService:
    def __init__(
        self,
        settings: CodeReviewServiceSettings,
        registrations: RegistrationService,
        deliveries: DeliveryRepository,
        queue: MessageQueue,
    ) -> None:
        self._settings = settings
        self._registrations = registrations
        self._deliveries = deliveries
        self._queue = queue

    def accept(self, headers: Mapping[str, str], body: bytes) -> DeliveryAnswer:
        """``headers`` with lowercase names, ``body`` exactly as GitHub sent it."""
        signature = _header(headers, "X-Hub-Signature-256")
        if signature is None:
            raise Unauthorized("missing X-Hub-Signature-256: give the webhook a secret and register it with Stratus")
        event = _header(headers, "X-GitHub-Event")
        delivery_id = _header(headers, "X-GitHub-Delivery")
        if event is None or delivery_id is None or len(delivery_id) > MAX_DELIVERY_ID:
            raise BadRequest("X-GitHub-Event and X-GitHub-Delivery headers are required (GitHub always sends them)")
        target_type = _header(headers, "X-GitHub-Hook-Installation-Target-Type")
        target_id = _header(headers, "X-GitHub-Hook-Installation-Target-ID")
        if target_type is None or target_id is None:
            raise BadRequest(
                "X-GitHub-Hook-Installation-Target-Type and -ID headers are required (GitHub always sends them)"
            )
        target = hook_target(target_type, target_id)
        if target is None:
            return self._ignored(
                event, None, f"{target_type} webhooks are not supported: register the repository or your GitHub App"
            )
        candidates = self._registrations.candidates(target)
        if not candidates:
            what = "repository" if target.startswith("repository#") else "GitHub App"
            return self._ignored(
                event, None, f"{what} {target_id} is not registered with Stratus (POST /codereview/installations)"
            )
        owner = self._registrations.owner(candidates, body, signature)
        if owner is None:
            logger.warning(
                "webhook signature does not match", extra={"hook_target": target, "delivery_id": delivery_id}
            )
            raise Unauthorized("X-Hub-Signature-256 does not match the registered webhook secret")

        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"the body is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise BadRequest("the body must be a JSON object")

        outcome = classify(event, payload)
        logger.append_keys(delivery_id=delivery_id, github_event=event, tenant_id=owner.tenant_id)
        if isinstance(outcome, Ping):
            return DeliveryAnswer(200, {"status": "pong", "zen": outcome.zen, "hook_id": outcome.hook_id})
        if isinstance(outcome, Ignored):
            return self._ignored(outcome.event, outcome.action, outcome.reason)

        outcome.delivery_id = delivery_id
        outcome.tenant_id = owner.tenant_id
        outcome.registration_id = owner.registration_id
        outcome.received_at_ms = int(time.time() * 1000)
        return self._enqueue_once(outcome)

    def _ignored(self, event: str, action: str | None, reason: str) -> DeliveryAnswer:
        logger.info("webhook ignored", extra={"github_event": event, "action": action, "reason": reason})
        return DeliveryAnswer(202, {"status": "ignored", "event": event, "action": action, "reason": reason})

    def _enqueue_once(self, envelope: Envelope) -> DeliveryAnswer:
        now = int(time.time())
        recorded = self._deliveries.record_once(
            envelope.tenant_id,
            envelope.delivery_id,
            event=envelope.event,
            action=envelope.action,
            status="queued",
            registration_id=envelope.registration_id,
            received_at=now,
            expires_at=now + self._settings.codereview_delivery_ttl_days * 86400,
        )
        if not recorded:
            return DeliveryAnswer(
                200,
                {
                    "status": "duplicate",
                    "delivery": envelope.delivery_id,
                    "reason": "this delivery was already accepted",
                },
            )
        try:
            self._queue.send(envelope.model_dump_json(exclude_none=True))
        except UpstreamUnavailable as exc:  # not queued: forget the delivery so GitHub's retry is accepted
            self._deliveries.forget(envelope.tenant_id, envelope.delivery_id)
            logger.exception("could not enqueue a delivery")
            raise UpstreamUnavailable("could not queue the delivery; GitHub may redeliver it", retry_after_s=5) from exc
        return DeliveryAnswer(
            202,
            {"status": "queued", "delivery": envelope.delivery_id, "event": envelope.event, "action": envelope.action},
        )
