"""docqa: RAG document Q&A. Upload, ingest (worker), hybrid search, streamed cited answers, history.

Routes stay thin: parse, one service call, shape the response. Streaming: with ``Accept: text/event-stream``
``POST /docqa/query`` answers as server-sent events. Behind API Gateway + Mangum the events arrive in one
buffered response; the same app deployed under the Lambda Web Adapter behind a Function URL
(``DocqaStreamFunction``, RESPONSE_STREAM) and the dev server stream them as they are produced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from fastapi import Header, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from docqa.answering import AnswerEvent, event_payload
from docqa.schemas import (
    AnswerView,
    ConversationView,
    DocumentView,
    HistoryPageView,
    MessageView,
    QueryRequest,
    UploadCreatedView,
    UploadRequest,
)
from docqa.wiring import Documents, Queries, documents_repository
from stratus.errors import UnsupportedMediaType, ValidationFailed
from stratus.observability import metrics
from stratus.web import CurrentPrincipal, Page, create_app, decode_cursor, encode_cursor, make_handler, sse


def _documents_table() -> None:
    documents_repository().find("health", "doc-000000000000000000000000")


app = create_app(
    "docqa",
    description="Ask questions about your documents and get answers that cite their pages",
    health_checks={"documents_table": _documents_table},
)

Limit = Annotated[int, Query(ge=1, le=100)]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {"schema": UploadRequest.model_json_schema()},
        },
    }
}


@app.post(
    "/docqa/documents",
    status_code=202,
    response_model=UploadCreatedView,
    openapi_extra=_UPLOAD_BODY,
    summary="Upload a document (multipart) or ask for a presigned S3 upload (JSON)",
    responses={201: {"model": UploadCreatedView, "description": "presigned upload created; POST the file to it"}},
)
async def create_document(
    request: Request, principal: CurrentPrincipal, documents: Documents, response: Response
) -> UploadCreatedView:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        form = await request.form(max_files=1)
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ValidationFailed("multipart body needs one file field named `file`", field="file")
        data = await file.read()
        document = await run_in_threadpool(documents.upload, principal, file.filename, file.content_type, data)
        return UploadCreatedView(document=DocumentView.of(document))
    if media_type == "application/json":
        try:
            body = UploadRequest.model_validate_json(await request.body())
        except ValidationError as error:
            fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()}))
            raise ValidationFailed(f"invalid request: {fields}", field=fields) from error
        ticket = await run_in_threadpool(
            documents.request_upload, principal, body.filename, body.content_type, body.size_bytes
        )
        response.status_code = 201
        return UploadCreatedView.of_ticket(ticket)
    raise UnsupportedMediaType(
        "send multipart/form-data with a `file` field, or application/json asking for a presigned upload",
        content_type=media_type or None,
    )


@app.get("/docqa/documents", response_model=Page[DocumentView], summary="Your documents, newest first")
def list_documents(
    principal: CurrentPrincipal,
    documents: Documents,
    status: Literal["pending", "processing", "ready", "failed"] | None = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> Page[DocumentView]:
    found, position = documents.list(principal, limit, decode_cursor(principal.tenant_id, cursor), status)
    return Page[DocumentView](
        items=[DocumentView.of(d) for d in found], next_cursor=encode_cursor(principal.tenant_id, position)
    )


@app.get("/docqa/documents/{document_id}", response_model=DocumentView, summary="A document and its status")
def get_document(document_id: str, principal: CurrentPrincipal, documents: Documents) -> DocumentView:
    return DocumentView.of(documents.get(principal, document_id))


@app.delete(
    "/docqa/documents/{document_id}",
    status_code=204,
    response_class=Response,
    summary="Delete the document, its chunks and its file (idempotent)",
)
def delete_document(document_id: str, principal: CurrentPrincipal, documents: Documents) -> Response:
    documents.delete(principal, document_id)
    return Response(status_code=204)


@app.post(
    "/docqa/query",
    response_model=AnswerView,
    summary="Ask a question; with Accept: text/event-stream the answer streams as server-sent events",
    responses={200: {"content": {sse.MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
def query(
    body: QueryRequest,
    principal: CurrentPrincipal,
    queries: Queries,
    accept: Annotated[str | None, Header()] = None,
) -> Response | AnswerView:
    if sse.wants_event_stream(accept):
        return sse.event_stream(answer_frames(queries.ask_streaming(principal, body.to_question())))
    return AnswerView.of(queries.ask(principal, body.to_question()))


@app.get(
    "/docqa/query/{conversation_id}/history",
    response_model=HistoryPageView,
    summary="The conversation's messages, oldest first",
)
def conversation_history(
    conversation_id: str,
    principal: CurrentPrincipal,
    queries: Queries,
    limit: Limit = 50,
    cursor: str | None = None,
) -> HistoryPageView:
    messages, position = queries.history(principal, conversation_id, limit, decode_cursor(principal.tenant_id, cursor))
    return HistoryPageView(
        conversation_id=conversation_id,
        items=[MessageView.of(m) for m in messages],
        next_cursor=encode_cursor(principal.tenant_id, position),
    )


@app.get("/docqa/conversations", response_model=Page[ConversationView], summary="Your conversations, newest first")
def list_conversations(
    principal: CurrentPrincipal, queries: Queries, limit: Limit = 20, cursor: str | None = None
) -> Page[ConversationView]:
    found, position = queries.conversations(principal, limit, decode_cursor(principal.tenant_id, cursor))
    return Page[ConversationView](
        items=[ConversationView.of(c) for c in found], next_cursor=encode_cursor(principal.tenant_id, position)
    )


@app.delete(
    "/docqa/conversations/{conversation_id}",
    status_code=204,
    response_class=Response,
    summary="Delete the conversation and every message in it (idempotent)",
)
def delete_conversation(conversation_id: str, principal: CurrentPrincipal, queries: Queries) -> Response:
    queries.delete_conversation(principal, conversation_id)
    return Response(status_code=204)


def answer_frames(events: Iterable[AnswerEvent]) -> Iterator[bytes]:
    """Each answer event as one SSE frame numbered from 0, flushed as soon as it exists."""
    for number, event in enumerate(events):
        payload = event_payload(event)
        yield sse.format_event(str(payload.pop("type")), payload, number)


class _FlushMetricsPerRequest:
    """Under uvicorn no Lambda handler wraps the request, so nothing else would ever write the buffered
    token and cost metrics: they are flushed when each response has been sent."""

    def __init__(self, inner: ASGIApp) -> None:
        self._inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._inner(scope, receive, send)
        finally:
            if scope["type"] == "http" and metrics.metric_set:
                metrics.flush_metrics()


handler = make_handler(app)
# DocqaStreamFunction: the same app under uvicorn and the Lambda Web Adapter (serve.sh), metrics per request.
streaming_app = _FlushMetricsPerRequest(app)
