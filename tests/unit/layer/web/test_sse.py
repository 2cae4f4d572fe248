"""Server-sent events as an EventSource client reads them: one frame per event, data that round-trips."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Request
from fastapi.responses import Response
from fastapi.testclient import TestClient

from stratus.config import reset_settings
from stratus.web import create_app
from stratus.web.sse import HEADERS, MEDIA_TYPE, event_stream, format_event, format_retry, wants_event_stream


def read_events(stream: bytes) -> list[dict[str, Any]]:
    """Dispatch the stream as the HTML EventSource algorithm does (fields per line, a blank line ends an event)."""
    events: list[dict[str, Any]] = []
    fields: dict[str, Any] = {}
    for line in stream.decode().split("\n"):
        if not line:
            if fields:
                events.append(fields)
            fields = {}
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        fields[name] = fields[name] + "\n" + value if name in fields and name == "data" else value
    return events


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        ("text/event-stream", True),
        ("application/json, text/event-stream;q=0.9", True),
        ("TEXT/EVENT-STREAM; charset=utf-8", True),
        ("text/event-stream;q=0", False),
        ("text/event-stream; q = 0.0", False),
        ("application/json", False),
        ("*/*", False),
        ("", False),
        (None, False),
    ],
)
def test_only_an_accept_header_naming_event_stream_asks_for_one(accept: str | None, wanted: bool) -> None:
    assert wants_event_stream(accept) is wanted


def test_an_event_frame_carries_its_id_name_and_json_data() -> None:
    data = {"text": "line one\nline two", "city": "Zürich", "n": 3}

    events = read_events(format_event("token", data, event_id=7))

    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    assert events == [{"id": "7", "event": "token", "data": encoded}]
    assert json.loads(events[0]["data"]) == data


def test_an_event_without_an_id_has_no_id_field() -> None:
    assert read_events(format_event("end", {"status": "succeeded"})) == [
        {"event": "end", "data": '{"status":"succeeded"}'}
    ]


def test_values_json_cannot_encode_are_sent_as_text() -> None:
    from datetime import UTC, datetime

    frame = format_event("tick", {"at": datetime(2026, 12, 8, tzinfo=UTC)})

    assert json.loads(read_events(frame)[0]["data"]) == {"at": "2026-12-08 00:00:00+00:00"}


def test_the_retry_frame_sets_the_reconnection_delay() -> None:
    assert format_retry(2000) == b"retry: 2000\n\n"
    assert read_events(format_retry(2000)) == [{"retry": "2000"}]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    reset_settings()
    app = create_app("widgets")

    @app.get("/widgets/progress")
    def progress(request: Request) -> Response:
        if not wants_event_stream(request.headers.get("accept")):
            return Response('{"done": 2}', media_type="application/json")
        frames = (format_event("step", {"n": n}, event_id=n) for n in (1, 2))
        return event_stream([format_retry(1500), *frames, format_event("end", {"done": 2})])

    with TestClient(app) as test_client:
        yield test_client
    reset_settings()


def test_a_streaming_route_sends_every_frame_with_headers_that_stop_buffering(client: TestClient) -> None:
    # When
    response = client.get("/widgets/progress", headers={"Accept": MEDIA_TYPE})

    # Then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(MEDIA_TYPE)
    assert {k.lower(): v for k, v in HEADERS.items()}.items() <= dict(response.headers.items()).items()
    assert read_events(response.content) == [
        {"retry": "1500"},
        {"id": "1", "event": "step", "data": '{"n":1}'},
        {"id": "2", "event": "step", "data": '{"n":2}'},
        {"event": "end", "data": '{"done":2}'},
    ]


def test_the_same_route_answers_json_to_a_client_that_does_not_ask_for_a_stream(client: TestClient) -> None:
    response = client.get("/widgets/progress", headers={"Accept": "application/json"})

    assert response.json() == {"done": 2}
