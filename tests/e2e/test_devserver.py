"""`make dev`'s server in a subprocess: HTTP health, a real WebSocket client, a published message, clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@dataclass
class DevServer:
    base_url: str
    ws_url: str
    api_key: str
    process: subprocess.Popen[str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "layers/common"), str(REPO / "functions"), str(REPO)]),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path_factory.mktemp("devserver") / "out.log"
    log = log_path.open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "stratus.local.devserver", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    api_key = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        match = re.search(r"export STRATUS_API_KEY=(\S+)", log_path.read_text())
        if match:
            api_key = match.group(1)
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except OSError:
                pass
        time.sleep(0.2)
    if api_key is None or process.poll() is not None:
        process.kill()
        pytest.fail(f"dev server did not start:\n{log_path.read_text()[-4000:]}")
    server = DevServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", api_key, process)
    yield server
    if process.poll() is None:
        process.kill()
    log.close()


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


def test_zz_shuts_down_cleanly(dev_server: DevServer) -> None:
    dev_server.process.send_signal(signal.SIGINT)
    assert dev_server.process.wait(timeout=30) == 0
