"""What the docqa API accepts (``…Request``) and returns (``…View``; pages are ``Page[…View]``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from docqa.answering import AnswerCompleted, Question
from docqa.documents import UploadTicket
from docqa.domain import Citation, Conversation, Document, DocumentStatus, Message, Role
from stratus.web import Page


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class DocumentView(_View):
    id: str
    filename: str
    content_type: str
    status: DocumentStatus
    failure_reason: str | None = Field(default=None, description="why the document failed, for status failed")
    failure_code: str | None = None
    title: str | None = None
    pages: int | None = None
    chunks: int | None = None
    size_bytes: int | None = None
    upload_method: str
    version: int = Field(description="increases with every change of the document's metadata")
    object_version: str | None = Field(default=None, description="the S3 object version (or ETag) ingested")
    created_at: datetime
    updated_at: datetime
    ready_at: datetime | None = None

    @classmethod
    def of(cls, document: Document) -> DocumentView:
        return cls(
            id=document.document_id,
            filename=document.filename,
            content_type=document.content_type,
            status=document.status,
            failure_reason=document.failure_reason,
            failure_code=document.failure_code,
            title=document.title,
            pages=document.pages,
            chunks=document.chunks,
            size_bytes=document.size_bytes,
            upload_method=document.upload_method,
            version=document.version,
            object_version=document.object_version,
            created_at=document.created_at,
            updated_at=document.updated_at,
            ready_at=document.ready_at,
        )


class UploadRequest(BaseModel):
    """Ask for a presigned S3 POST: the way for files above the API payload limit (100+ page PDFs)."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=1024)
    content_type: str = Field(min_length=1, max_length=255, examples=["application/pdf"])
    size_bytes: int = Field(gt=0, description="exact or maximum size of the file to upload")


class PresignedUploadView(_View):
    url: str
    fields: dict[str, str] = Field(description="form fields to send before the file field")
    expires_in_s: int


class UploadCreatedView(_View):
    document: DocumentView
    upload: PresignedUploadView | None = Field(
        default=None, description="POST multipart/form-data to `url`: every field, then the file as `file`"
    )

    @classmethod
    def of_ticket(cls, ticket: UploadTicket) -> UploadCreatedView:
        upload = ticket.upload
        return cls(
            document=DocumentView.of(ticket.document),
            upload=PresignedUploadView(url=upload.url, fields=upload.fields, expires_in_s=upload.expires_in_s),
        )


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=20_000)
    conversation_id: str | None = Field(default=None, max_length=64, description="continue this conversation")
    document_ids: list[str] | None = Field(
        default=None, max_length=100, description="search only these documents (default: all of yours)"
    )
    k: int | None = Field(default=None, description="passages to retrieve (default 5, at most 20)")

    def to_question(self) -> Question:
        return Question(
            text=self.question,
            conversation_id=self.conversation_id,
            document_ids=None if self.document_ids is None else tuple(self.document_ids),
            k=self.k,
        )


class CitationView(_View):
    citation_id: int = Field(description="the [n] in the answer")
    document_id: str
    filename: str | None = None
    page: int | None
    chunk_id: str
    chunk_index: int
    score: float
    snippet: str

    @classmethod
    def of(cls, citation: Citation) -> CitationView:
        return cls(**citation.as_dict())


class UsageView(_View):
    input_tokens: int
    output_tokens: int
    cost_usd: float
    model: str
    provider: str
    offline: bool = Field(description="true when no language model wrote the answer (the offline provider)")
    latency_ms: float


class AnswerView(_View):
    conversation_id: str
    message_id: str
    question: str
    standalone_question: str = Field(description="the question as searched, after condensing with the history")
    answer: str
    citations: list[CitationView]
    usage: UsageView
    offline: bool

    @classmethod
    def of(cls, completed: AnswerCompleted) -> AnswerView:
        return cls(
            conversation_id=completed.conversation_id,
            message_id=completed.message_id,
            question=completed.question,
            standalone_question=completed.standalone_question,
            answer=completed.answer,
            citations=[CitationView.of(c) for c in completed.citations],
            usage=UsageView(**completed.usage),
            offline=bool(completed.usage.get("offline")),
        )


class MessageView(_View):
    id: str
    role: Role
    content: str
    created_at: datetime
    citations: list[CitationView] = Field(default_factory=list)
    usage: dict[str, Any] | None = None
    standalone_question: str | None = None
    failure_reason: str | None = Field(default=None, description="set on a question whose answer failed")

    @classmethod
    def of(cls, message: Message) -> MessageView:
        return cls(
            id=message.message_id,
            role=message.role,
            content=message.content,
            created_at=message.created_at,
            citations=[CitationView.of(c) for c in message.citations],
            usage=message.usage or None,
            standalone_question=message.standalone_question,
            failure_reason=message.failure_reason,
        )


class HistoryPageView(Page[MessageView]):
    """A page of the conversation's messages, oldest first."""

    conversation_id: str


class ConversationView(_View):
    id: str
    title: str = Field(description="the conversation's first question, shortened")
    created_at: datetime

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationView:
        return cls(id=conversation.conversation_id, title=conversation.title, created_at=conversation.created_at)
