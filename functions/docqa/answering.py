"""Questions about the tenant's documents: condense with history, hybrid retrieval, a cited answer, history.

The question is stored before any model call; the answer only once it is complete, so a provider that
fails leaves the conversation with the question (marked unanswered) and never with half an answer.
Every answer is produced as a stream of events: the SSE route forwards them as they come, the JSON route
collects them, and both publish them to the conversation's WebSocket topic when someone subscribed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from docqa.domain import Citation, Conversation, Message, is_id, new_id, utcnow
from docqa.settings import DocqaSettings
from stratus.errors import NotFound, StratusError, UpstreamFailed, ValidationFailed
from stratus.identity import Principal
from stratus.observability import logger

if TYPE_CHECKING:
    from docqa.repository import ConversationRepository, DocumentRepository, Position
    from stratus.ai import ChatChunk, ChatMessage, ChatModel, ChatRequest, Embedder, Passage, Usage
    from stratus.realtime import TopicPublisher
    from stratus.search import SearchHit, SearchIndex

SNIPPET_CHARS = 300
CONVERSATION_TITLE_CHARS = 80


def conversation_topic(conversation_id: str) -> str:
    """The WebSocket topic on which a conversation's answers are published (within the tenant)."""
    return f"docqa:conversation:{conversation_id}"


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    conversation_id: str | None = None
    document_ids: tuple[str, ...] | None = None
    k: int | None = None


@dataclass(frozen=True, slots=True)
class AnswerStarted:
    conversation_id: str
    question_message_id: str
    standalone_question: str
    passages: int


@dataclass(frozen=True, slots=True)
class AnswerToken:
    text: str


@dataclass(frozen=True, slots=True)
class AnswerCompleted:
    conversation_id: str
    question_message_id: str
    message_id: str
    question: str
    standalone_question: str
    answer: str
    citations: tuple[Citation, ...]
    usage: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AnswerFailed:
    conversation_id: str
    question_message_id: str
    error: StratusError


AnswerEvent = AnswerStarted | AnswerToken | AnswerCompleted | AnswerFailed


@dataclass(frozen=True, slots=True)
class _Asked:
    """A question stored in its conversation, not yet answered."""

    tenant_id: str
    conversation_id: str
    question: str
    question_message_id: str
    new_conversation: bool


@dataclass
class _Prepared:
    asked: _Asked
    standalone_question: str
    hits: list[SearchHit]
    request: ChatRequest
    connections: list[str] = field(default_factory=list)


class QueryService:
    def __init__(
        self,
        conversations: ConversationRepository,
        documents: DocumentRepository,
        search_index: Callable[[], SearchIndex],
        embedder: Callable[[], Embedder],
        chat_model: Callable[[], ChatModel],
        topics: Callable[[], TopicPublisher],
        subscribers: Callable[[str, str], list[str]],
        settings: DocqaSettings,
    ) -> None:
        self._conversations = conversations
        self._documents = documents
        self._search_index = search_index
        self._embedder = embedder
        self._chat_model = chat_model
        self._topics = topics
        self._subscribers = subscribers
        self._settings = settings

    def ask(self, principal: Principal, question: Question) -> AnswerCompleted:
        """The complete answer; a provider failure raises its 502/503 after the question was kept."""
        for event in self.ask_streaming(principal, question):
            if isinstance(event, AnswerFailed):
                raise event.error
            if isinstance(event, AnswerCompleted):
                return event
        raise UpstreamFailed("the model stream ended without an answer")

    def ask_streaming(self, principal: Principal, question: Question) -> Iterator[AnswerEvent]:
        """Validation, retrieval and the model's first token happen before this returns, so their errors
        are still ordinary problem responses; a failure after that arrives as an ``AnswerFailed`` event."""
        prepared = self._prepare(principal, question)
        chunks = self._guarded(prepared.asked, lambda: iter(self._chat_model().stream(prepared.request)))
        first = self._guarded(prepared.asked, lambda: _first_chunk(chunks))
        if not prepared.asked.new_conversation:  # nobody can have subscribed to an id not handed out yet
            prepared.connections = self._live_connections(prepared)
        return self._events(prepared, first, chunks)

    def _prepare(self, principal: Principal, question: Question) -> _Prepared:
        tenant_id = principal.tenant_id
        text = self._validated_text(question.text)
        k = self._validated_k(question.k)
        document_ids = self._owned_documents(tenant_id, question.document_ids)
        conversation = self._conversation(tenant_id, question.conversation_id, text)
        new_conversation = question.conversation_id is None
        history = [] if new_conversation else self._history(tenant_id, conversation.conversation_id)
        message = Message(
            conversation_id=conversation.conversation_id,
            message_id=new_id("msg"),
            role="user",
            content=text,
            created_at=utcnow(),
        )
        self._conversations.add_message(tenant_id, message)
        asked = _Asked(tenant_id, conversation.conversation_id, text, message.message_id, new_conversation)
        return self._guarded(asked, lambda: self._retrieve(asked, history, document_ids, k))

    def _retrieve(
        self, asked: _Asked, history: Sequence[ChatMessage], document_ids: list[str] | None, k: int
    ) -> _Prepared:
        from stratus.ai import Passage, answer_request, condense_question
        from stratus.search import hybrid_search

        standalone = condense_question(self._chat_model(), history, asked.question)
        embedding = self._embedder().embed([standalone])[0]
        hits = hybrid_search(
            self._search_index(),
            asked.tenant_id,
            standalone,
            embedding,
            k,
            document_ids,
            rrf_k=self._settings.search_rrf_k,
        )
        passages = [_passage(Passage, number, hit) for number, hit in enumerate(hits, start=1)]
        request = answer_request(
            standalone,
            passages,
            history,
            max_tokens=self._settings.model_max_tokens,
            max_history_messages=self._settings.docqa_history_messages,
        )
        return _Prepared(asked, standalone, hits, request)

    def _events(self, prepared: _Prepared, first: ChatChunk, chunks: Iterator[ChatChunk]) -> Iterator[AnswerEvent]:
        asked = prepared.asked
        pieces: list[str] = []
        chunk: ChatChunk | None = first
        try:
            started = AnswerStarted(
                asked.conversation_id, asked.question_message_id, prepared.standalone_question, len(prepared.hits)
            )
            self._publish(prepared, started)
            yield started
            while chunk is not None and chunk.usage is None:
                if chunk.text:
                    pieces.append(chunk.text)
                    token = AnswerToken(chunk.text)
                    self._publish(prepared, token)
                    yield token
                chunk = next(chunks, None)
            if chunk is None:
                raise UpstreamFailed("the model stream ended without its final usage report")
            completed = self._complete(prepared, "".join(pieces), chunk)
        except GeneratorExit:  # the SSE client went away: stop the model, keep the question unanswered
            self._failed(asked, StratusError("the client disconnected before the answer was complete"))
            raise
        except Exception as error:
            if not isinstance(error, StratusError):
                logger.exception("answer stream failed")
                error = StratusError("the answer failed with an internal error")
            failed = self._failed(asked, error)
            self._publish(prepared, failed)
            yield failed
            return
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # releases the provider's HTTP stream when we stop early
        self._publish(prepared, completed)
        yield completed

    def _complete(self, prepared: _Prepared, answer: str, final: ChatChunk) -> AnswerCompleted:
        assert final.usage is not None
        by_number = dict(enumerate(prepared.hits, start=1))
        citations = tuple(_citation(number, by_number[number]) for number in final.citations if number in by_number)
        usage = _usage_dict(final.usage)
        asked = prepared.asked
        message = Message(
            conversation_id=asked.conversation_id,
            message_id=new_id("msg"),
            role="assistant",
            content=answer,
            created_at=utcnow(),
            citations=citations,
            usage=usage,
            standalone_question=prepared.standalone_question,
        )
        self._conversations.add_message(asked.tenant_id, message)
        return AnswerCompleted(
            conversation_id=asked.conversation_id,
            question_message_id=asked.question_message_id,
            message_id=message.message_id,
            question=asked.question,
            standalone_question=prepared.standalone_question,
            answer=answer,
            citations=citations,
            usage=usage,
        )

    def _guarded[T](self, asked: _Asked, step: Callable[[], T]) -> T:
        """Run a step after the question was stored; on failure mark it unanswered, then re-raise."""
        try:
            return step()
        except StratusError as error:
            self._failed(asked, error)
            raise
        except Exception:
            self._failed(asked, StratusError("the answer failed with an internal error"))
            raise

    def _failed(self, asked: _Asked, error: StratusError) -> AnswerFailed:
        # The problem response names the conversation, so a caller can read it back or ask again there.
        error.extensions.setdefault("conversation_id", asked.conversation_id)
        error.extensions.setdefault("question_message_id", asked.question_message_id)
        logger.warning(
            "question left unanswered",
            extra={"conversation_id": asked.conversation_id, "status": error.status, "detail": error.detail},
        )
        try:
            self._conversations.mark_unanswered(
                asked.tenant_id, asked.conversation_id, asked.question_message_id, error.detail
            )
        except Exception:  # the original error is what the caller must see
            logger.exception("could not mark the question unanswered")
        return AnswerFailed(asked.conversation_id, asked.question_message_id, error)

    def _live_connections(self, prepared: _Prepared) -> list[str]:
        """Subscribers are looked up once per answer, not once per token."""
        try:
            return self._subscribers(prepared.asked.tenant_id, conversation_topic(prepared.asked.conversation_id))
        except Exception:  # WebSocket delivery is best effort: the HTTP answer must not fail for it
            logger.exception("could not look up the conversation's WebSocket subscribers")
            return []

    def _publish(self, prepared: _Prepared, event: AnswerEvent) -> None:
        if not prepared.connections:
            return
        asked = prepared.asked
        message = {"topic": conversation_topic(asked.conversation_id), **event_payload(event)}
        try:
            publisher = self._topics()
            delivered = [c for c in prepared.connections if publisher.send(asked.tenant_id, c, message)]
            prepared.connections = delivered
        except Exception:
            logger.exception("WebSocket publish failed; the answer continues over HTTP only")
            prepared.connections = []

    def conversations(
        self, principal: Principal, limit: int, position: Position | None
    ) -> tuple[list[Conversation], Position | None]:
        return self._conversations.conversations(principal.tenant_id, limit, position)

    def delete_conversation(self, principal: Principal, conversation_id: str) -> None:
        """Idempotent: an unknown (or another tenant's) conversation is already gone."""
        if is_id(conversation_id, "conv"):
            removed = self._conversations.delete(principal.tenant_id, conversation_id)
            logger.info("conversation deleted", extra={"conversation_id": conversation_id, "messages": removed})

    def history(
        self, principal: Principal, conversation_id: str, limit: int, position: Position | None
    ) -> tuple[list[Message], Position | None]:
        self._existing_conversation(principal.tenant_id, conversation_id)
        return self._conversations.messages(principal.tenant_id, conversation_id, limit, position)

    def _validated_text(self, text: str) -> str:
        cleaned = text.strip()
        if not any(_is_visible(character) for character in cleaned):
            raise ValidationFailed("question has no visible characters", field="question")
        limit = self._settings.docqa_max_question_chars
        if len(cleaned) > limit:
            raise ValidationFailed(f"question is {len(cleaned)} characters; the limit is {limit}", field="question")
        return cleaned

    def _validated_k(self, k: int | None) -> int:
        if k is None:
            return self._settings.docqa_default_k
        if not 1 <= k <= self._settings.docqa_max_k:
            raise ValidationFailed(f"k must be between 1 and {self._settings.docqa_max_k}", field="k")
        return k

    def _owned_documents(self, tenant_id: str, document_ids: Sequence[str] | None) -> list[str] | None:
        if document_ids is None:
            return None
        unique = list(dict.fromkeys(document_ids))
        for document_id in unique:
            if not is_id(document_id, "doc") or self._documents.find(tenant_id, document_id) is None:
                raise NotFound(f"document {document_id} not found", document_id=document_id)
        return unique

    def _conversation(self, tenant_id: str, conversation_id: str | None, question: str) -> Conversation:
        if conversation_id is not None:
            return self._existing_conversation(tenant_id, conversation_id)
        conversation = Conversation(
            tenant_id=tenant_id,
            conversation_id=new_id("conv"),
            created_at=utcnow(),
            title=question[:CONVERSATION_TITLE_CHARS],
        )
        self._conversations.create(conversation)
        return conversation

    def _existing_conversation(self, tenant_id: str, conversation_id: str) -> Conversation:
        found = self._conversations.find(tenant_id, conversation_id) if is_id(conversation_id, "conv") else None
        if found is None:
            raise NotFound(f"conversation {conversation_id} not found", conversation_id=conversation_id)
        return found

    def _history(self, tenant_id: str, conversation_id: str) -> list[ChatMessage]:
        from stratus.ai import ChatMessage

        messages = self._conversations.recent_messages(
            tenant_id, conversation_id, self._settings.docqa_history_messages
        )
        return [ChatMessage(role=m.role, content=m.content) for m in messages if m.content]


def _is_visible(character: str) -> bool:
    """Not whitespace and not a control, format or unassigned code point (NUL, escapes, zero-width marks)."""
    return not character.isspace() and not unicodedata.category(character).startswith("C")


def _first_chunk(chunks: Iterator[ChatChunk]) -> ChatChunk:
    first = next(chunks, None)
    if first is None:
        raise UpstreamFailed("the model returned an empty stream")
    return first


def _passage(passage_type: type[Passage], number: int, hit: SearchHit) -> Passage:
    return passage_type(
        citation_id=number,
        document_id=hit.document_id,
        page=hit.page,
        chunk_id=hit.chunk_id,
        text=hit.text,
        score=hit.score,
    )


def _citation(number: int, hit: SearchHit) -> Citation:
    snippet = " ".join(hit.text.split())
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[: SNIPPET_CHARS - 1].rstrip() + "…"
    return Citation(
        citation_id=number,
        document_id=hit.document_id,
        page=hit.page,
        chunk_id=hit.chunk_id,
        chunk_index=hit.chunk_index,
        score=round(hit.score, 6),
        snippet=snippet,
        filename=hit.metadata.get("filename"),
    )


def _usage_dict(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": usage.cost_usd,
        "model": usage.model,
        "provider": usage.provider,
        "offline": usage.offline,
        "latency_ms": round(usage.latency_ms, 1),
    }


def event_payload(event: AnswerEvent) -> dict[str, Any]:
    """The JSON of an answer event, the same on SSE and on the WebSocket topic."""
    if isinstance(event, AnswerStarted):
        return {
            "type": "started",
            "conversation_id": event.conversation_id,
            "question_message_id": event.question_message_id,
            "standalone_question": event.standalone_question,
            "passages": event.passages,
        }
    if isinstance(event, AnswerToken):
        return {"type": "token", "text": event.text}
    if isinstance(event, AnswerCompleted):
        return {
            "type": "done",
            "conversation_id": event.conversation_id,
            "message_id": event.message_id,
            "answer": event.answer,
            "citations": [citation.as_dict() for citation in event.citations],
            "usage": event.usage,
            "offline": bool(event.usage.get("offline")),
        }
    return {
        "type": "error",
        "conversation_id": event.conversation_id,
        "question_message_id": event.question_message_id,
        "status": event.error.status,
        "title": event.error.title,
        "detail": event.error.detail,
    }
