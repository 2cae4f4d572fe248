"""The worker handler reports only the records that failed; docqa settings are validated at cold start."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from stratus.errors import UpstreamUnavailable
from stratus.local.lambda_dispatch import LocalLambdaContext


def sqs_record(message_id: str, body: str, receive_count: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1700000000000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:docqa-ingest",
        "awsRegion": "us-east-1",
    }


class ScriptedIngestion:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []

    def ingest_notification(self, body: str, *, final_attempt: bool) -> list[str]:
        self.calls.append((body, final_attempt))
        if body == "throttled":
            raise UpstreamUnavailable("embedding provider throttled")
        if body == "not-s3":
            from docqa.ingestion import MalformedNotification

            raise MalformedNotification("not an S3 notification")
        return ["ready"]


def test_only_failed_records_are_reported_and_the_last_attempt_is_flagged(
    docqa_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docqa.worker

    ingestion = ScriptedIngestion()
    monkeypatch.setattr(docqa.worker, "ingestion_service", lambda: ingestion)
    event = {
        "Records": [
            sqs_record("ok", "fine"),
            sqs_record("bad", "throttled", receive_count=5),
            sqs_record("junk", "not-s3"),
        ]
    }

    response = docqa.worker.handler(event, LocalLambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert ingestion.calls == [("fine", False), ("throttled", True), ("not-s3", False)]


def test_settings_refuse_a_default_k_above_the_maximum(docqa_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from docqa.settings import DocqaSettings

    monkeypatch.setenv("DOCQA_DEFAULT_K", "30")
    monkeypatch.setenv("DOCQA_MAX_K", "10")

    with pytest.raises(ValidationError, match="DOCQA_DEFAULT_K"):
        DocqaSettings()


def test_settings_read_the_docqa_environment(docqa_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from docqa.settings import DocqaSettings

    monkeypatch.setenv("DOCQA_INGEST_MAX_RECEIVES", "3")

    settings = DocqaSettings()

    assert (settings.docqa_bucket, settings.docqa_documents_table) == ("docs", "documents")
    assert settings.docqa_ingest_max_receives == 3
    assert settings.docqa_max_k == 20
