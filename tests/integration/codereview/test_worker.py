"""The queue consumer: a delivery that keeps failing ends in the dead-letter queue, the others go through."""

from __future__ import annotations

import copy
import json

from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.codereview.conftest import (
    Tenant,
    deliver,
    example_payload,
    pull_request_payload,
    register_repository,
    retarget,
    settle,
)
from tests.integration.codereview.fake_github import FakeGitHub


def test_a_delivery_that_keeps_failing_lands_in_the_dead_letter_queue(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given a "/review" command on a pull request GitHub does not know (404 every time),
    # and a normal pull request delivered next to it
    hooked = register_repository(client, github, tenant)
    good = hooked.repo.open_pull(50, {"a.py": "a = 1\n"}, {"a.py": "a = 1\nprint(a)\n"})
    command = copy.deepcopy(example_payload("issue_comment", "created.payload.json"))
    retarget(command, good)
    command["issue"]["number"] = 404
    command["issue"]["pull_request"] = {"url": f"https://api.github.com/repos/{hooked.full_name}/pulls/404"}
    command["comment"]["body"] = "/review"

    # When both are delivered and the queue is worked off
    assert deliver(client, hooked, "issue_comment", command).status_code == 202
    assert deliver(client, hooked, "pull_request", pull_request_payload("opened", good)).status_code == 202
    settle(aws)

    # Then the good one was reviewed, and the failing one was retried, then moved to the DLQ for a human
    assert len(github.reviews_of(hooked.full_name, 50)) == 1
    sqs = aws.client("sqs")
    dlq = aws.template.names.queue_url("CodeReviewDeliveryDLQ")
    messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [(b["event"], b["pr_number"], b["tenant_id"]) for b in bodies] == [("issue_comment", 404, tenant.tenant_id)]
    assert int(messages[0]["Attributes"]["ApproximateReceiveCount"]) >= 5
    attempts = [r for r in github.requests if r[1] == f"/repos/{hooked.full_name}/pulls/404"]
    assert len(attempts) == 5 and {status for _, _, status, _ in attempts} == {404}


def test_a_delivery_redelivered_by_sqs_starts_one_review_execution(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    from stratus.local.lambda_dispatch import invoke_handler

    # Given a queued pull request delivery, taken off the queue as SQS hands it to the worker
    hooked = register_repository(client, github, tenant)
    pull = hooked.repo.open_pull(61, {"a.py": "a = 1\n"}, {"a.py": "a = 1\nprint(a)\n"})
    assert deliver(client, hooked, "pull_request", pull_request_payload("opened", pull)).status_code == 202
    sqs = aws.client("sqs")
    queue = aws.template.names.queue_url("CodeReviewDeliveryQueue")
    message = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"][0]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }

    # When the worker gets the same message twice (SQS delivers at least once)
    answers = [invoke_handler("codereview.worker.handler", {"Records": [record]}) for _ in range(2)]
    settle(aws)

    # Then neither is a failure, one execution ran, and the run points at it; the pull request got one review
    assert answers == [{"batchItemFailures": []}, {"batchItemFailures": []}]
    machine = str(aws.template.ref("CodeReviewStateMachine"))
    detail = client.get(f"/codereview/reviews/{pull.id}", headers=tenant.headers).json()
    executions = aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    ours = [e["executionArn"] for e in executions if e["name"].startswith(f"{pull.id}-")]
    assert len(ours) == 1 and [run["status"] for run in detail["runs"]] == ["posted"]
    assert len(github.reviews_of(hooked.full_name, 61)) == 1
