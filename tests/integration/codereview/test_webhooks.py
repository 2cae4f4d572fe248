"""The webhook: signatures checked before anything is read, GitHub's retries processed once, tenants kept apart."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from starlette.testclient import TestClient

from stratus.errors import UpstreamUnavailable
from stratus.local.embedded import EmbeddedAws
from tests.integration.codereview.conftest import (
    Tenant,
    deliver,
    example_payload,
    new_tenant,
    pull_request_payload,
    register_repository,
    settle,
)
from tests.integration.codereview.fake_github import FakeGitHub

BASE = {"app/handler.py": "def handle(event):\n    return event\n"}
HEAD = {"app/handler.py": "def handle(event, seen=[]):\n    seen.append(event)\n    return event\n"}


def test_forged_or_missing_signatures_are_refused_and_nothing_is_reviewed(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given a registered repository with an open pull request
    hooked = register_repository(client, github, tenant)
    pull = hooked.repo.open_pull(1, BASE, HEAD)
    payload = pull_request_payload("opened", pull)

    # When deliveries arrive signed with the wrong secret, or not signed at all
    forged = deliver(client, hooked, "pull_request", payload, secret="an-attacker-guessed-this-one")
    unsigned = deliver(client, hooked, "pull_request", payload, signature="")
    settle(aws)

    # Then both are 401 problem+json and no review exists anywhere
    for response in (forged, unsigned):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert "does not match" in forged.json()["detail"]
    assert "missing X-Hub-Signature-256" in unsigned.json()["detail"]
    assert github.reviews_of(hooked.full_name, 1) == []
    assert client.get("/codereview/reviews", headers=tenant.headers).json()["items"] == []


def test_bad_bodies_unknown_repositories_pings_and_other_events(
    client: TestClient, github: FakeGitHub, tenant: Tenant
) -> None:
    hooked = register_repository(client, github, tenant)

    # Malformed JSON, correctly signed: 400 after the signature was checked
    malformed = deliver(client, hooked, "pull_request", b'{"action": "opened", "pull_request": ')
    assert malformed.status_code == 400
    assert "not JSON" in malformed.json()["detail"]

    # A repository nobody registered: 202 with the reason, whatever the signature
    stranger = deliver(client, hooked, "pull_request", b"{}", target=("repository", "999999999"))
    assert stranger.status_code == 202
    assert stranger.json() == {
        "status": "ignored",
        "event": "pull_request",
        "action": None,
        "reason": "repository 999999999 is not registered with Stratus (POST /codereview/installations)",
    }

    # GitHub's ping (sent when the webhook is created) is answered
    ping = deliver(client, hooked, "ping", example_payload("ping", "payload.json"))
    assert ping.status_code == 200
    assert ping.json()["status"] == "pong" and ping.json()["zen"]

    # Events and actions the agent does not act on are acknowledged with the reason
    push = deliver(client, hooked, "push", example_payload("push", "payload.json"))
    labeled = deliver(client, hooked, "pull_request", example_payload("pull_request", "labeled.payload.json"))
    assert (push.status_code, push.json()["reason"]) == (202, "event 'push' is not one the review agent handles")
    assert (labeled.status_code, labeled.json()["reason"]) == (202, "pull_request action 'labeled' needs no review")

    # Organisation-wide webhooks are not something a tenant can register
    org = deliver(client, hooked, "pull_request", b"{}", target=("organization", "12345"))
    assert org.status_code == 202 and "organization webhooks are not supported" in org.json()["reason"]


def test_the_same_delivery_three_times_gives_one_review(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given an opened pull request
    hooked = register_repository(client, github, tenant)
    pull = hooked.repo.open_pull(2, BASE, HEAD)
    payload = pull_request_payload("opened", pull)
    delivery = str(uuid.uuid4())

    # When GitHub delivers it, retries it, and a user redelivers it after it was processed
    first = deliver(client, hooked, "pull_request", payload, delivery_id=delivery)
    retry = deliver(client, hooked, "pull_request", payload, delivery_id=delivery)
    settle(aws)
    redelivered = deliver(client, hooked, "pull_request", payload, delivery_id=delivery)
    settle(aws)

    # Then it was queued once, the others were recognised as duplicates, and one review was posted
    assert (first.status_code, first.json()["status"]) == (202, "queued")
    assert [(r.status_code, r.json()["status"]) for r in (retry, redelivered)] == [(200, "duplicate")] * 2
    reviews = github.reviews_of(hooked.full_name, 2)
    assert len(reviews) == 1
    assert [c["line"] for c in reviews[0].comments] == [1]  # the mutable default argument


def test_a_delivery_that_cannot_be_queued_is_503_and_githubs_redelivery_is_then_reviewed(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    from codereview import wiring
    from codereview.app import app
    from codereview.settings import get_codereview_settings
    from codereview.webhook import WebhookService

    class DownQueue:
        def send(self, body: str, *, attributes: Mapping[str, str] | None = None) -> str:
            raise UpstreamUnavailable("the message could not be queued; try again", retry_after_s=5)

    # Given an opened pull request, and a queue that is down for the first delivery
    hooked = register_repository(client, github, tenant)
    pull = hooked.repo.open_pull(3, BASE, HEAD)
    payload = pull_request_payload("opened", pull)
    delivery = str(uuid.uuid4())
    app.dependency_overrides[wiring.webhook_service] = lambda: WebhookService(
        get_codereview_settings(), wiring.registration_service(), wiring.delivery_repository(), DownQueue()
    )
    try:
        refused = deliver(client, hooked, "pull_request", payload, delivery_id=delivery)
    finally:
        app.dependency_overrides.pop(wiring.webhook_service)

    # When GitHub redelivers it once the queue is back
    redelivered = deliver(client, hooked, "pull_request", payload, delivery_id=delivery)
    settle(aws)

    # Then the first answer told GitHub to retry, the delivery was not remembered, and one review was posted
    assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
    assert refused.headers["content-type"] == "application/problem+json"
    assert (redelivered.status_code, redelivered.json()["status"]) == (202, "queued")
    assert len(github.reviews_of(hooked.full_name, 3)) == 1


def test_a_tenant_claiming_someone_elses_repository_gets_none_of_its_deliveries(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given tenant A's repository, which tenant B also registers under its own secret
    hooked = register_repository(client, github, tenant)
    intruder = new_tenant("intruder")
    claim = client.post(
        "/codereview/installations",
        headers=intruder.admin_headers,
        json={
            "kind": "repository",
            "repository": hooked.full_name,
            "repository_id": hooked.repo.id,
            "webhook_secret": "intruder-secret-0123456789",
        },
    )
    assert claim.status_code == 201
    pull = hooked.repo.open_pull(3, BASE, HEAD)

    # When GitHub delivers the pull request, signed with the real owner's secret
    response = deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)

    # Then the owner's review is posted and the intruder sees nothing of it
    assert response.status_code == 202
    assert len(github.reviews_of(hooked.full_name, 3)) == 1
    assert client.get(f"/codereview/reviews/{pull.id}", headers=tenant.headers).status_code == 200
    assert client.get(f"/codereview/reviews/{pull.id}", headers=intruder.headers).status_code == 404
    assert client.get("/codereview/reviews", headers=intruder.headers).json()["items"] == []
