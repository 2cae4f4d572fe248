"""Asking questions: cited answers on the right page, follow-ups, SSE, WebSocket tokens, failures, tenancy."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stratus.ai import ChatChunk, ChatRequest, ChatResult, Usage
from stratus.ai.types import Provider
from stratus.errors import UpstreamFailed, UpstreamUnavailable
from tests.integration.conftest import auth, emf_metrics
from tests.integration.docqa.conftest import REFERENCES_MD, RFC2616_PDF, Library, ask, upload_file


def pdf_page_text(page_number: int) -> str:
    """The page's text straight from PDFium: the ground truth a citation's page is checked against."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(RFC2616_PDF.read_bytes())
    try:
        page = pdf[page_number - 1]
        text: str = page.get_textpage().get_text_range()
        return " ".join(text.split())
    finally:
        pdf.close()


def history(library: Library, conversation_id: str, key: Any = None) -> list[dict[str, Any]]:
    response = library.client.get(f"/docqa/query/{conversation_id}/history", headers=auth(key or library.tenant_a))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def sse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


class ScriptedModel:
    """A chat model that streams the given pieces, optionally failing or waiting for a gate after the first."""

    def __init__(
        self,
        pieces: list[str],
        *,
        fail_after: int | None = None,
        error: Exception | None = None,
        gate: threading.Event | None = None,
    ) -> None:
        self.pieces = pieces
        self.fail_after = fail_after
        self.error = error or UpstreamUnavailable("model throttled: ThrottlingException")
        self.gate = gate
        self.gate_opened_by_client = False

    @property
    def provider(self) -> Provider:
        return "bedrock"

    @property
    def model_id(self) -> str:
        return "scripted"

    def generate(self, request: ChatRequest) -> ChatResult:
        return ChatResult(text=request.question, usage=self._usage())

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        for number, piece in enumerate(self.pieces):
            if self.fail_after is not None and number == self.fail_after:
                raise self.error
            yield ChatChunk(text=piece)
            if number == 0 and self.gate is not None:
                self.gate_opened_by_client = self.gate.wait(timeout=10)
        yield ChatChunk(text="", citations=(1,), usage=self._usage())

    @staticmethod
    def _usage() -> Usage:
        return Usage(
            input_tokens=10,
            output_tokens=3,
            cost_usd=0.0,
            model="scripted",
            provider="bedrock",
            offline=False,
            latency_ms=1.0,
        )


@pytest.fixture
def use_model() -> Iterator[Callable[[ScriptedModel], None]]:
    """Swap the docqa app's chat model from now on (app.dependency_overrides); restored after the test."""
    from docqa.app import app
    from docqa.wiring import make_query_service, query_service

    def install(model: ScriptedModel) -> None:
        app.dependency_overrides[query_service] = lambda: make_query_service(chat_model=lambda: model)

    try:
        yield install
    finally:
        app.dependency_overrides.pop(query_service, None)


def test_answer_cites_the_pdf_page_that_holds_the_answer(library: Library) -> None:
    # Given RFC 2616 (176 pages) uploaded through a presigned URL and ingested
    assert library.rfc2616["status"] == "ready"
    assert library.rfc2616["pages"] == 176

    # When a question whose answer is section 10.4.14 is asked
    answer = ask(library.client, library.tenant_a, "What does the 413 Request Entity Too Large status code mean?")

    # Then the first citation points at page 69 of the PDF, where that section is
    first = answer["citations"][0]
    assert first["document_id"] == library.rfc2616["id"]
    assert first["filename"] == "rfc2616.pdf"
    assert first["page"] == 69
    assert "10.4.14 413 Request Entity Too Large" in pdf_page_text(69)
    assert "request entity is larger than the server is willing" in " ".join(answer["answer"].split())
    # And the answer, its usage and its label say the offline model wrote it
    assert answer["offline"] is True and answer["usage"]["offline"] is True
    assert answer["usage"]["provider"] == "offline" and answer["usage"]["input_tokens"] > 0


def test_follow_up_question_is_condensed_with_the_conversation_history(library: Library) -> None:
    # Given a conversation about Rust's ownership rules
    first = ask(library.client, library.tenant_a, "What are the ownership rules?")

    # When a follow-up refers to them by pronoun in the same conversation, and in a new one
    follow_up = ask(
        library.client, library.tenant_a, "Why does Rust need them?", conversation_id=first["conversation_id"]
    )
    standalone = ask(library.client, library.tenant_a, "Why does Rust need them?")

    # Then only the follow-up in the conversation was searched as a question about the ownership rules
    assert follow_up["conversation_id"] == first["conversation_id"]
    assert follow_up["standalone_question"] == "Why does Rust need the ownership rules?"
    assert standalone["standalone_question"] == "Why does Rust need them?"
    assert {c["document_id"] for c in follow_up["citations"]} == {library.ownership["id"]}
    # And the history holds the four messages, oldest first, one item each
    messages = history(library, first["conversation_id"])
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "What are the ownership rules?"),
        ("assistant", first["answer"]),
        ("user", "Why does Rust need them?"),
        ("assistant", follow_up["answer"]),
    ]
    assert messages[3]["citations"] == follow_up["citations"]


def test_history_pages_with_a_cursor(library: Library) -> None:
    conversation = ask(library.client, library.tenant_a, "What is the Retry-After header used for?")
    ask(
        library.client,
        library.tenant_a,
        "What is the Location header?",
        conversation_id=conversation["conversation_id"],
    )
    path = f"/docqa/query/{conversation['conversation_id']}/history"

    first = library.client.get(path, headers=auth(library.tenant_a), params={"limit": 3}).json()
    rest = library.client.get(
        path, headers=auth(library.tenant_a), params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()

    assert len(first["items"]) == 3 and first["next_cursor"]
    assert [m["role"] for m in first["items"] + rest["items"]] == ["user", "assistant"] * 2
    # A cursor is bound to its tenant: tenant B cannot use it, even on a conversation of its own
    own = ask(library.client, library.tenant_b, "What is the Location header?")
    stolen = library.client.get(
        f"/docqa/query/{own['conversation_id']}/history",
        headers=auth(library.tenant_b),
        params={"cursor": first["next_cursor"]},
    )
    assert stolen.status_code == 422


def test_sse_delivers_tokens_while_the_model_is_still_generating(
    library: Library, use_model: Callable[[ScriptedModel], None]
) -> None:
    import httpx
    import uvicorn

    from stratus.local.devserver import build_gateway

    # Given a model that, after its first token, waits until the client has received that token
    gate = threading.Event()
    model = ScriptedModel(["Requests ", "larger ", "than ", "allowed ", "get ", "413."], gate=gate)
    use_model(model)
    server = uvicorn.Server(
        uvicorn.Config(build_gateway(library.aws.template), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]

        # When the client asks over HTTP with Accept: text/event-stream
        received: list[tuple[str, dict[str, Any]]] = []
        with httpx.stream(
            "POST",
            f"http://127.0.0.1:{port}/docqa/query",
            headers={**auth(library.tenant_a), "Accept": "text/event-stream"},
            json={"question": "What happens to requests that are too large?"},
            timeout=30,
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            event = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    received.append((event, json.loads(line[6:])))
                    if event == "token" and not gate.is_set():
                        gate.set()  # the first token arrived before the model produced the second
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    # Then the first token crossed the wire while the model was still waiting, and the rest followed
    assert model.gate_opened_by_client is True
    kinds = [kind for kind, _ in received]
    assert kinds == ["started", "token", "token", "token", "token", "token", "token", "done"]
    assert (
        "".join(data["text"] for kind, data in received if kind == "token") == "Requests larger than allowed get 413."
    )
    done = received[-1][1]
    assert done["answer"] == "Requests larger than allowed get 413." and done["citations"][0]["page"] is not None


def api_gateway_query_event(tenant_id: str, question: str, accept: str = "application/json") -> dict[str, Any]:
    """The HTTP API event API Gateway sends for ``POST /docqa/query`` behind the authorizer."""
    return {
        "version": "2.0",
        "routeKey": "POST /docqa/query",
        "rawPath": "/docqa/query",
        "rawQueryString": "",
        "headers": {"accept": accept, "content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "authorizer": {
                "lambda": {
                    "authenticated": "true",
                    "tenant_id": tenant_id,
                    "user_id": "alice",
                    "roles": "member",
                    "key_id": "k",
                }
            },
            "domainName": "local",
            "http": {
                "method": "POST",
                "path": "/docqa/query",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "r-1",
            "routeKey": "POST /docqa/query",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "body": json.dumps({"question": question}),
        "isBase64Encoded": False,
    }


def test_sse_through_mangum_returns_the_whole_stream_in_one_response(library: Library) -> None:
    from docqa.app import handler
    from stratus.local.lambda_dispatch import LocalLambdaContext

    # Given the HTTP API event API Gateway would send for a streamed query (behind the authorizer)
    event = api_gateway_query_event(
        library.tenant_a.tenant_id, "What is the Retry-After header used for?", accept="text/event-stream"
    )

    # When the Lambda handler (Mangum) runs it
    result = handler(event, LocalLambdaContext())

    # Then every event is in the one buffered body: Mangum cannot stream, the Function URL deployment does
    assert result["statusCode"] == 200
    kinds = [kind for kind, _ in sse_events(result["body"])]
    assert kinds[0] == "started" and kinds[-1] == "done" and kinds.count("token") > 3


def test_tokens_are_published_to_the_conversations_websocket_topic(library: Library) -> None:
    # Given a conversation and a WebSocket of tenant A subscribed to its topic
    conversation = ask(library.client, library.tenant_a, "What are the ownership rules?")
    topic = f"docqa:conversation:{conversation['conversation_id']}"
    with library.client.websocket_connect(f"/ws?auth={library.tenant_a.api_key}") as ws:
        ws.send_text(json.dumps({"action": "subscribe", "topic": topic}))
        assert json.loads(ws.receive_text()) == {"type": "subscribed", "topic": topic}

        # When a follow-up is asked over plain JSON
        answer = ask(
            library.client,
            library.tenant_a,
            "What happens when the owner goes out of scope?",
            conversation_id=conversation["conversation_id"],
        )

        # Then the socket received the tokens of that answer, in order, then the final answer
        messages = []
        while not messages or messages[-1]["type"] != "done":
            messages.append(json.loads(ws.receive_text()))
    assert {m["topic"] for m in messages} == {topic}
    assert messages[0]["type"] == "started"
    assert "".join(m["text"] for m in messages if m["type"] == "token") == answer["answer"]
    assert messages[-1]["message_id"] == answer["message_id"]


@pytest.mark.parametrize(
    ("fail_after", "error", "status"),
    [
        (0, UpstreamFailed("model answered 500 after 3 attempts"), 502),
        (2, UpstreamUnavailable("model throttled: ThrottlingException"), 503),
    ],
    ids=["fails-before-the-first-token", "fails-mid-answer"],
)
def test_failing_provider_gives_a_problem_and_keeps_the_question_without_an_answer(
    library: Library, use_model: Callable[[ScriptedModel], None], fail_after: int, error: Exception, status: int
) -> None:
    # Given a conversation with one answered question, and a provider that then fails
    conversation = ask(library.client, library.tenant_a, "What are the ownership rules?")
    use_model(ScriptedModel(["Each ", "value ", "has ", "an ", "owner."], fail_after=fail_after, error=error))

    # When a follow-up is asked
    response = library.client.post(
        "/docqa/query",
        headers=auth(library.tenant_a),
        json={
            "question": "What happens when the owner goes out of scope?",
            "conversation_id": conversation["conversation_id"],
        },
    )

    # Then the caller gets the provider's problem response, naming the conversation and the kept question
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == str(error)
    assert response.json()["conversation_id"] == conversation["conversation_id"]
    # And the conversation keeps the question, marked unanswered, and no part of the failed answer
    messages = history(library, conversation["conversation_id"])
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[-1]["content"] == "What happens when the owner goes out of scope?"
    assert messages[-1]["failure_reason"] == str(error)


def test_failure_mid_stream_arrives_as_an_sse_error_event(
    library: Library, use_model: Callable[[ScriptedModel], None]
) -> None:
    use_model(ScriptedModel(["Each ", "value ", "has "], fail_after=2))

    response = library.client.post(
        "/docqa/query",
        headers={**auth(library.tenant_a), "Accept": "text/event-stream"},
        json={"question": "What are the ownership rules?"},
    )

    events = sse_events(response.text)
    assert [kind for kind, _ in events] == ["started", "token", "token", "error"]
    assert events[-1][1]["status"] == 503
    messages = history(library, events[0][1]["conversation_id"])
    assert [(m["role"], m["failure_reason"] is not None) for m in messages] == [("user", True)]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"question": ""}, 422, "question"),
        ({"question": "   "}, 422, "question"),
        ({"question": "x" * 2001}, 422, "question"),
        ({"question": "ok?", "k": 0}, 422, "k"),
        ({"question": "ok?", "k": 21}, 422, "k"),
        ({"question": "ok?", "conversation_id": "conv-0123456789abcdef01234567"}, 404, None),
        ({"question": "ok?", "document_ids": ["doc-0123456789abcdef01234567"]}, 404, None),
    ],
    ids=["empty", "blank", "too-long", "k-zero", "k-too-big", "unknown-conversation", "unknown-document"],
)
def test_bad_questions_are_refused_before_anything_is_stored(
    library: Library, body: dict[str, Any], status: int, field: str | None
) -> None:
    response = library.client.post("/docqa/query", headers=auth(library.tenant_a), json=body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field:
        assert field in response.json()["detail"]


def test_unknown_conversation_history_is_404(library: Library) -> None:
    for conversation_id in ("conv-0123456789abcdef01234567", "not-an-id"):
        response = library.client.get(f"/docqa/query/{conversation_id}/history", headers=auth(library.tenant_a))
        assert response.status_code == 404


def test_tenant_b_never_sees_tenant_a_documents_citations_or_history(library: Library) -> None:
    client, a, b = library.client, library.tenant_a, library.tenant_b
    conversation = ask(client, a, "What does the 413 Request Entity Too Large status code mean?")
    rfc_id = library.rfc2616["id"]

    # List and get: nothing of A's
    assert client.get("/docqa/documents", headers=auth(b)).json()["items"] == []
    assert client.get(f"/docqa/documents/{rfc_id}", headers=auth(b)).status_code == 404
    # Query: the same question cites nothing of A's, and naming A's document is a 404 like any unknown one
    answer = ask(client, b, "What does the 413 Request Entity Too Large status code mean?")
    assert answer["citations"] == []
    named = client.post("/docqa/query", headers=auth(b), json={"question": "413?", "document_ids": [rfc_id]})
    assert named.status_code == 404
    # History: A's conversation does not exist for B, not even to continue it
    assert client.get(f"/docqa/query/{conversation['conversation_id']}/history", headers=auth(b)).status_code == 404
    follow = client.post(
        "/docqa/query",
        headers=auth(b),
        json={"question": "and 414?", "conversation_id": conversation["conversation_id"]},
    )
    assert follow.status_code == 404
    # Delete: B's delete of A's document changes nothing for A
    assert client.delete(f"/docqa/documents/{rfc_id}", headers=auth(b)).status_code == 204
    assert client.get(f"/docqa/documents/{rfc_id}", headers=auth(a)).json()["status"] == "ready"
    assert len(history(library, conversation["conversation_id"])) == 2


def test_deleting_a_document_removes_its_chunks_so_no_answer_cites_it(library: Library) -> None:
    from stratus.search import get_search_index

    client, a = library.client, library.tenant_a
    # Given a second Rust chapter, ingested and cited
    borrowed = upload_file(client, a, REFERENCES_MD, "text/markdown")
    library.aws.drain_queues()
    question = "What are the rules of references?"
    before = ask(client, a, question)
    assert borrowed["id"] in {c["document_id"] for c in before["citations"]}

    # When it is deleted (twice: delete is idempotent)
    assert client.delete(f"/docqa/documents/{borrowed['id']}", headers=auth(a)).status_code == 204
    assert client.delete(f"/docqa/documents/{borrowed['id']}", headers=auth(a)).status_code == 204

    # Then its metadata, file and chunks are gone, and the same question no longer cites it
    assert client.get(f"/docqa/documents/{borrowed['id']}", headers=auth(a)).status_code == 404
    assert get_search_index().count(a.tenant_id, borrowed["id"]) == 0
    objects = library.aws.client("s3").list_objects_v2(
        Bucket=library.aws.physical_name("DocqaBucket"), Prefix=f"{a.tenant_id}/documents/{borrowed['id']}"
    )
    assert objects.get("KeyCount", 0) == 0
    after = ask(client, a, question)
    assert borrowed["id"] not in {c["document_id"] for c in after["citations"]}


class FailingOpenAIServer:
    """An OpenAI-compatible endpoint on a real socket that answers every chat call with one HTTP error."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.requests += 1
                self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.dumps({"error": {"message": "nope", "type": "server_error", "code": None}}).encode()
                self.send_response(status)
                for name, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.parametrize(
    ("upstream_status", "headers", "status"),
    [
        (429, {"retry-after": "0"}, 503),
        (400, {}, 502),
    ],
    ids=["throttled-then-gave-up", "rejected"],
)
def test_a_real_provider_adapter_failing_gives_the_problem_response(
    library: Library, upstream_status: int, headers: dict[str, str], status: int
) -> None:
    from docqa.app import app
    from docqa.wiring import make_query_service, query_service
    from stratus.ai import get_chat_model
    from stratus.config.ai import AiSettings

    # Given the OpenAI adapter (langchain-openai, the layer's retry policy) pointed at a failing server
    server = FailingOpenAIServer(upstream_status, headers)
    settings = AiSettings(
        model_provider="openai",
        openai_base_url=server.url,
        model_max_attempts=2,
        model_backoff_base_s=0.0,
        model_timeout_s=5.0,
    )
    app.dependency_overrides[query_service] = lambda: make_query_service(chat_model=lambda: get_chat_model(settings))
    try:
        # When a question is asked
        response = library.client.post(
            "/docqa/query", headers=auth(library.tenant_a), json={"question": "What are the ownership rules?"}
        )
    finally:
        app.dependency_overrides.pop(query_service, None)
        server.close()

    # Then the caller gets the provider's problem response, after the retries the policy allows
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "OpenAI" in response.json()["detail"]
    assert server.requests == (2 if status == 503 else 1)
    # And the problem names the new conversation, which holds the question, marked unanswered, and nothing else
    messages = history(library, response.json()["conversation_id"])
    assert [(m["role"], m["content"]) for m in messages] == [("user", "What are the ownership rules?")]
    assert "OpenAI" in messages[0]["failure_reason"]


def test_conversations_are_listed_newest_first_and_deleted_with_every_message(library: Library) -> None:
    client, a, b = library.client, library.tenant_a, library.tenant_b
    # Given two conversations of tenant A, one with a follow-up
    older = ask(client, a, "What is the Location header?")
    newer = ask(client, a, "What are the ownership rules?")
    ask(client, a, "Why does Rust need them?", conversation_id=newer["conversation_id"])

    # When A lists its conversations
    listed = client.get("/docqa/conversations", headers=auth(a), params={"limit": 100}).json()["items"]

    # Then both are there, newest first, titled by their first question; B sees none of them
    ids = [c["id"] for c in listed]
    assert ids.index(newer["conversation_id"]) < ids.index(older["conversation_id"])
    assert {c["id"]: c["title"] for c in listed}[newer["conversation_id"]] == "What are the ownership rules?"
    assert older["conversation_id"] not in [
        c["id"] for c in client.get("/docqa/conversations", headers=auth(b)).json()["items"]
    ]

    # When B tries to delete A's conversation, then A deletes it (twice: idempotent)
    path = f"/docqa/conversations/{newer['conversation_id']}"
    assert client.delete(path, headers=auth(b)).status_code == 204
    assert len(history(library, newer["conversation_id"])) == 4
    assert client.delete(path, headers=auth(a)).status_code == 204
    assert client.delete(path, headers=auth(a)).status_code == 204

    # Then the conversation, its history and every message item are gone; the other one is untouched
    assert client.get(f"/docqa/query/{newer['conversation_id']}/history", headers=auth(a)).status_code == 404
    table = library.aws.client("dynamodb")
    left = table.query(
        TableName=library.aws.physical_name("DocqaConversationsTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{a.tenant_id}#conversation#{newer['conversation_id']}"}},
    )
    assert left["Count"] == 0
    assert len(history(library, older["conversation_id"])) == 2
    asked_again = client.post(
        "/docqa/query", headers=auth(a), json={"question": "more?", "conversation_id": newer["conversation_id"]}
    )
    assert asked_again.status_code == 404


@pytest.mark.parametrize(
    "question",
    ["\x00", "\x00\x00\x00", "\x01\x02\x1b\x7f", " \t\x00\n ", "\u200b\u200b", "\x85\x9f"],
    ids=["nul", "nuls", "escapes", "blank-and-nul", "zero-width", "c1-controls"],
)
def test_a_question_without_visible_characters_is_422_and_starts_no_conversation(
    library: Library, question: str
) -> None:
    from tests.integration.docqa.conftest import new_tenant

    # Given a tenant with no conversation yet
    key = new_tenant("carol")

    # When it asks a question made only of control characters or whitespace
    response = library.client.post("/docqa/query", headers=auth(key), json={"question": question})

    # Then the question is refused with a problem naming the field, and no conversation (or title) was stored
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "question" in response.json()["detail"]
    conversations = library.client.get("/docqa/conversations", headers=auth(key))
    assert conversations.status_code == 200 and conversations.json()["items"] == []


def test_a_reader_key_may_list_documents_but_not_ask(library: Library) -> None:
    from stratus.identity import get_identity_service
    from tests.integration.conftest import TenantKey

    # Given a read-only key of tenant A
    _, secret = get_identity_service().issue_api_key(library.tenant_a.tenant_id, "rita", roles=("reader",))
    reader = TenantKey(library.tenant_a.tenant_id, secret)
    before = library.client.get("/docqa/conversations?limit=100", headers=auth(reader)).json()["items"]

    # When it lists the documents and asks a question
    listed = library.client.get("/docqa/documents", headers=auth(reader))
    question = {"question": "What are the ownership rules?"}
    asked = library.client.post("/docqa/query", headers=auth(reader), json=question)

    # Then it reads the tenant's documents, and asking is refused with a 403 problem
    assert listed.status_code == 200 and {d["id"] for d in listed.json()["items"]} >= {library.rfc2616["id"]}
    assert asked.status_code == 403, asked.text
    assert asked.headers["content-type"] == "application/problem+json"
    assert library.client.get("/docqa/conversations?limit=100", headers=auth(reader)).json()["items"] == before


def test_a_query_through_the_lambda_handler_emits_its_token_and_cost_metrics(
    library: Library, emitted_metrics: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from docqa.app import handler
    from stratus.local.lambda_dispatch import LocalLambdaContext

    # When a question reaches the docqa Lambda (API Gateway + Mangum)
    result = handler(
        api_gateway_query_event(library.tenant_a.tenant_id, "What are the ownership rules?"), LocalLambdaContext()
    )

    # Then the invocation printed the model's tokens and cost as EMF
    assert result["statusCode"] == 200, result["body"]
    usage = json.loads(result["body"])["usage"]
    emitted = emf_metrics(capsys.readouterr().out)
    assert usage["input_tokens"] in emitted["ModelInputTokens"]
    assert emitted["ModelCostUSD"] and all(cost >= 0 for cost in emitted["ModelCostUSD"])


def test_a_streamed_query_under_uvicorn_flushes_its_token_and_cost_metrics_when_the_response_ends(
    library: Library, emitted_metrics: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from starlette.testclient import TestClient

    from docqa.app import streaming_app
    from stratus.observability import metrics

    # Given the app as serve.sh runs it under the Lambda Web Adapter (no Lambda handler around a request)
    with TestClient(streaming_app) as stream_client:
        # When a question is answered as server-sent events
        response = stream_client.post(
            "/docqa/query",
            headers={**auth(library.tenant_a), "accept": "text/event-stream"},
            json={"question": "What are the ownership rules?"},
        )

    # Then the response's end flushed the model's tokens and cost as EMF, and nothing stays buffered
    assert response.status_code == 200, response.text
    done = sse_events(response.text)[-1][1]
    emitted = emf_metrics(capsys.readouterr().out)
    assert done["usage"]["input_tokens"] in emitted["ModelInputTokens"]
    assert emitted["ModelCostUSD"] and all(cost >= 0 for cost in emitted["ModelCostUSD"])
    assert not metrics.metric_set
