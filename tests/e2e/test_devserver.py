"""`make dev`'s server in a subprocess: HTTP health, a real WebSocket client, a published message, clean stop."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from .conftest import DevServer, start_dev_server

pytestmark = pytest.mark.e2e


def _http(
    server: DevServer, method: str, path: str, body: dict[str, object] | None = None
) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        server.base_url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Api-Key": server.api_key, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_over_http(dev_server: DevServer) -> None:
    with urllib.request.urlopen(dev_server.base_url + "/health", timeout=10) as response:
        body = json.loads(response.read())
    assert response.status == 200 and body["status"] == "ok"
    assert body["services"]["realtime"]["checks"]["connections"]["status"] == "ok"


def test_a_websocket_client_receives_a_published_message(dev_server: DevServer) -> None:
    with connect(f"{dev_server.ws_url}?auth={dev_server.api_key}", open_timeout=10) as ws:
        ws.send(json.dumps({"action": "subscribe", "topic": "builds"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed", "topic": "builds"}
        status, body = _http(dev_server, "POST", "/realtime/topics/builds/messages", {"data": {"build": 42}})
        assert (status, body) == (202, {"topic": "builds", "delivered": 1})
        assert json.loads(ws.recv(timeout=10)) == {
            "topic": "builds",
            "type": "message",
            "data": {"build": 42},
            "sender": "developer",
        }


def test_websocket_without_credentials_is_refused(dev_server: DevServer) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        connect(dev_server.ws_url, open_timeout=10)
    assert refused.value.response.status_code == 401


def test_the_dev_server_shuts_down_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    # Given a dev server of its own, so stopping it leaves the shared one to the other tests
    server = start_dev_server(tmp_path)
    try:
        # When it gets Ctrl-C
        server.process.send_signal(signal.SIGINT)

        # Then it stops with status 0
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()
