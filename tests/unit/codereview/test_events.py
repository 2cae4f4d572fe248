"""Deliveries classified from GitHub's own example payloads: what is reviewed, what is feedback, what is ignored."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from codereview.events import Envelope, Ignored, Ping, classify
from stratus.errors import BadRequest
from stratus.github.webhooks import sign_payload, signature_matches
from tests.integration.codereview.conftest import example_payload


def test_an_opened_pull_request_is_queued_for_review_with_what_the_worker_needs() -> None:
    payload = example_payload("pull_request", "opened.payload.json")

    envelope = classify("pull_request", payload)

    assert isinstance(envelope, Envelope)
    assert envelope.kind == "review"
    assert envelope.repository == "Codertocat/Hello-World"
    assert envelope.repository_id == 186853002
    assert envelope.installation_id == 1
    assert envelope.pull_request is not None
    assert (envelope.pull_request.number, envelope.pull_request.head_sha[:7]) == (2, "ec26c3e")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("reopened.payload.json", "review"),
        ("synchronize.payload.json", "review"),
        ("ready_for_review.payload.json", "review"),
        ("closed.payload.json", "closed"),
        ("opened.with-null-body.json", "review"),
    ],
)
def test_pull_request_actions_that_matter(name: str, kind: str) -> None:
    outcome = classify("pull_request", example_payload("pull_request", name))

    assert isinstance(outcome, Envelope)
    assert outcome.kind == kind


@pytest.mark.parametrize("name", ["labeled.payload.json", "assigned.payload.json", "locked.payload.json"])
def test_other_pull_request_actions_are_ignored_with_a_reason(name: str) -> None:
    outcome = classify("pull_request", example_payload("pull_request", name))

    assert isinstance(outcome, Ignored)
    assert "needs no review" in outcome.reason


def test_a_draft_is_not_reviewed_until_it_is_ready() -> None:
    payload = copy.deepcopy(example_payload("pull_request", "opened.payload.json"))
    payload["pull_request"]["draft"] = True

    outcome = classify("pull_request", payload)

    assert isinstance(outcome, Ignored)
    assert "draft" in outcome.reason


def test_review_comments_and_resolved_threads_carry_feedback() -> None:
    comment = classify(
        "pull_request_review_comment", example_payload("pull_request_review_comment", "created.payload.json")
    )
    thread = classify(
        "pull_request_review_thread", example_payload("pull_request_review_thread", "resolved.payload.json")
    )
    unresolved = classify(
        "pull_request_review_thread", example_payload("pull_request_review_thread", "unresolved.payload.json")
    )

    assert isinstance(comment, Envelope) and comment.kind == "review_comment"
    assert [c.id for c in comment.comments] == [284312630]
    assert isinstance(thread, Envelope) and thread.kind == "thread"
    assert [c.id for c in thread.comments] == [284312630]
    assert isinstance(unresolved, Ignored)


def test_a_review_command_needs_a_comment_on_a_pull_request() -> None:
    on_issue = example_payload("issue_comment", "created.payload.json")
    command = copy.deepcopy(on_issue)
    command["issue"]["pull_request"] = {"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
    command["comment"]["body"] = "/review\nplease look again"
    chatter = copy.deepcopy(command)
    chatter["comment"]["body"] = "Looks good, thanks /review"

    assert isinstance(classify("issue_comment", on_issue), Ignored)
    outcome = classify("issue_comment", command)
    assert isinstance(outcome, Envelope) and outcome.kind == "command" and outcome.pr_number == 1
    ignored = classify("issue_comment", chatter)
    assert isinstance(ignored, Ignored) and "not a /review command" in ignored.reason


def test_only_members_can_ask_for_a_review_and_stratus_ignores_its_own_comments() -> None:
    command = copy.deepcopy(example_payload("issue_comment", "created.payload.json"))
    command["issue"]["pull_request"] = {"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
    command["comment"]["body"] = "/review"
    command["comment"]["author_association"] = "NONE"
    own = copy.deepcopy(example_payload("pull_request_review_comment", "created.payload.json"))
    own["comment"]["body"] = "**low** · style\n\nprint left\n<!-- stratus-codereview fingerprint=abc -->"
    reply = copy.deepcopy(own)
    reply["comment"]["in_reply_to_id"] = 42

    stranger = classify("issue_comment", command)
    ours = classify("pull_request_review_comment", own)

    assert isinstance(stranger, Ignored) and "members" in stranger.reason
    assert isinstance(ours, Ignored) and "own review comments" in ours.reason
    assert isinstance(classify("pull_request_review_comment", reply), Envelope)


def test_ping_and_unknown_events() -> None:
    assert isinstance(classify("ping", example_payload("ping", "with-app_id.payload.json")), Ping)
    push = classify("push", example_payload("push", "payload.json"))
    assert isinstance(push, Ignored) and "push" in push.reason


def test_installation_events_name_the_account_and_repositories() -> None:
    payload: dict[str, Any] = {
        "action": "created",
        "installation": {"id": 4242, "account": {"login": "octo-org"}, "app_id": 99},
        "repositories": [{"id": 1, "full_name": "octo-org/api"}, {"id": 2, "full_name": "octo-org/web"}],
    }

    envelope = classify("installation", payload)

    assert isinstance(envelope, Envelope)
    assert (envelope.installation_id, envelope.account, envelope.repositories) == (
        4242,
        "octo-org",
        ["octo-org/api", "octo-org/web"],
    )


def test_a_handled_event_without_its_fields_is_a_bad_request() -> None:
    payload = copy.deepcopy(example_payload("pull_request", "opened.payload.json"))
    del payload["pull_request"]["head"]

    with pytest.raises(BadRequest, match=r"pull_request\.head"):
        classify("pull_request", payload)


def test_signatures_match_only_the_exact_body_and_secret() -> None:
    body = json.dumps(example_payload("ping", "payload.json")).encode()
    signature = sign_payload("s3cret-webhook-value", body)

    assert signature.startswith("sha256=") and len(signature) == 71
    assert signature_matches("s3cret-webhook-value", body, signature)
    assert not signature_matches("another-secret", body, signature)
    assert not signature_matches("s3cret-webhook-value", body + b" ", signature)
    assert not signature_matches("s3cret-webhook-value", body, None)
    assert not signature_matches("s3cret-webhook-value", body, signature.replace("sha256=", "sha1="))
