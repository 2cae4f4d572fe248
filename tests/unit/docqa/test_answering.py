"""The answer stream of QueryService with in-memory conversations, the real embedded index and hash embeddings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.docqa.conftest import InMemoryBlobs, InMemoryConversations, InMemoryDocuments


class EndlessModel:
    """Streams words until it is closed; records whether it was."""

    provider = "bedrock"
    model_id = "endless"

    def __init__(self) -> None:
        self.closed = False

    def generate(self, request: Any) -> Any:
        raise AssertionError("a first question is never condensed")

    def stream(self, request: Any) -> Iterator[Any]:
        from stratus.ai import ChatChunk

        try:
            while True:
                yield ChatChunk(text="word ")
        finally:
            self.closed = True


@pytest.fixture
def service_parts(docqa_env: None, tmp_path: Path) -> Any:
    from docqa.answering import QueryService
    from docqa.settings import get_docqa_settings
    from stratus.ai.providers.hashing import HashEmbedder
    from stratus.search.embedded import EmbeddedSearchIndex

    conversations, model = InMemoryConversations(), EndlessModel()
    index, embedder = EmbeddedSearchIndex(tmp_path / "index"), HashEmbedder()
    service = QueryService(
        conversations=conversations,  # type: ignore[arg-type]
        documents=InMemoryDocuments(),  # type: ignore[arg-type]
        search_index=lambda: index,
        embedder=lambda: embedder,
        chat_model=lambda: model,  # type: ignore[arg-type,return-value]
        topics=lambda: None,  # type: ignore[arg-type,return-value]
        subscribers=lambda tenant, topic: [],
        settings=get_docqa_settings(),
    )
    return service, conversations, model


def test_a_client_that_leaves_mid_answer_stops_the_model_and_leaves_the_question_unanswered(
    service_parts: Any,
) -> None:
    from docqa.answering import AnswerStarted, AnswerToken, Question
    from stratus.identity import Principal

    service, conversations, model = service_parts
    principal = Principal(tenant_id="tenant-a", user_id="alice")

    # Given an answer streaming to a client
    events = service.ask_streaming(principal, Question("What are the ownership rules?"))
    started = next(events)
    assert isinstance(started, AnswerStarted) and isinstance(next(events), AnswerToken)

    # When the client goes away (the server closes the stream)
    events.close()

    # Then the model stream was closed, and the conversation keeps only the question, marked unanswered
    assert model.closed is True
    stored = conversations.messages_of("tenant-a", started.conversation_id)
    assert [(m.role, m.failure_reason) for m in stored] == [
        ("user", "the client disconnected before the answer was complete")
    ]


def test_an_object_uploaded_after_its_document_was_deleted_is_removed(docqa_env: None, tmp_path: Path) -> None:
    from docqa.ingestion import IngestionService, ObjectCreated
    from docqa.settings import get_docqa_settings

    blobs = InMemoryBlobs()
    blobs.put("tenant-a", "documents/doc-0123456789abcdef01234567", b"late bytes", "text/plain")
    ingestion = IngestionService(
        InMemoryDocuments(),
        blobs,
        lambda: None,
        lambda: None,
        get_docqa_settings(),  # type: ignore[arg-type]
    )

    outcome = ingestion.ingest_object(
        ObjectCreated("docs", "tenant-a/documents/doc-0123456789abcdef01234567", 10, "etag")
    )

    assert outcome == "gone" and blobs.objects == {}
