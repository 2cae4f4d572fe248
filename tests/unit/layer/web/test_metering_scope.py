"""Every authenticated request is a metering scope: model calls in sync routes and streams count for its caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.responses import StreamingResponse

from stratus.config import reset_settings
from stratus.local.lambda_dispatch import LocalLambdaContext
from stratus.metering import UsageEvent, record_model_usage
from stratus.web import CurrentPrincipal, create_app, make_handler

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class MemoryRecorder:
    def __init__(self) -> None:
        self.events: dict[str, UsageEvent] = {}

    def record(self, event: UsageEvent) -> bool:
        if event.call_id in self.events:
            return False
        self.events[event.call_id] = event
        return True


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> MemoryRecorder:
    from stratus.metering import scope

    memory = MemoryRecorder()
    monkeypatch.setattr(scope, "get_usage_ledger", lambda: memory)
    return memory


def _model_call() -> None:
    record_model_usage(model="amazon.nova-lite-v1:0", input_tokens=10, output_tokens=2, cost_usd=0.0, offline=False)


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Handler]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    reset_settings()
    app = create_app("probe")

    @app.post("/probe/answer")
    def answer(principal: CurrentPrincipal) -> dict[str, str]:
        _model_call()
        _model_call()
        return {"tenant": principal.tenant_id}

    @app.post("/probe/stream")
    def stream(principal: CurrentPrincipal) -> StreamingResponse:
        def frames() -> Iterator[bytes]:
            for n in range(3):
                _model_call()
                yield f"data: {n}\n\n".encode()

        return StreamingResponse(frames(), media_type="text/event-stream")

    @app.get("/probe/anonymous")
    def anonymous() -> dict[str, str]:
        _model_call()
        return {}

    yield make_handler(app)
    reset_settings()


def _call(handler: Handler, path: str, method: str = "POST", request_id: str = "r-1") -> dict[str, Any]:
    authorizer = {"tenant_id": "acme", "user_id": "alice", "key_id": "k1", "roles": "", "authenticated": "true"}
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"x-request-id": request_id},
        "requestContext": {
            "http": {"method": method, "path": path, "sourceIp": "203.0.113.1", "protocol": "HTTP/1.1"},
            "requestId": "gw-1",
            "stage": "$default",
            "routeKey": f"{method} {path}",
            "authorizer": {"lambda": authorizer},
        },
        "isBase64Encoded": False,
    }
    response: dict[str, Any] = handler(event, LocalLambdaContext())
    assert response["statusCode"] == 200, response
    return response


def test_model_calls_of_a_sync_route_are_recorded_for_the_requests_caller_and_service(
    handler: Handler, recorder: MemoryRecorder
) -> None:
    _call(handler, "/probe/answer")

    events = list(recorder.events.values())
    assert len(events) == 2
    assert {(e.tenant_id, e.service, e.user_id, e.key_id) for e in events} == {("acme", "probe", "alice", "k1")}
    assert sorted(e.call_id.rsplit(":", 1)[1] for e in events) == ["0", "1"]


def test_every_step_of_a_streamed_response_is_recorded_in_the_requests_scope(
    handler: Handler, recorder: MemoryRecorder
) -> None:
    response = _call(handler, "/probe/stream")

    assert response["body"].count("data:") == 3
    assert len(recorder.events) == 3
    assert {e.key_id for e in recorder.events.values()} == {"k1"}


def test_a_client_repeating_its_request_id_is_charged_for_each_request(
    handler: Handler, recorder: MemoryRecorder
) -> None:
    _call(handler, "/probe/answer", request_id="same id / with spaces")
    _call(handler, "/probe/answer", request_id="same id / with spaces")

    assert len(recorder.events) == 4
    assert all(e.call_id.startswith("probe:same-id---with-spaces.") for e in recorder.events.values())


def test_a_route_without_a_principal_meters_nothing(handler: Handler, recorder: MemoryRecorder) -> None:
    _call(handler, "/probe/anonymous", method="GET")

    assert recorder.events == {}
