"""One retry layer: a throttled Step Functions call is tried as often as the policy says, not policy x botocore."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stratus.cache import reset_containers
from stratus.errors import UpstreamUnavailable
from stratus.flows import StepFunctions
from stratus.retry import RetryPolicy


class _AlwaysThrottled(BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        _AlwaysThrottled.calls.append(self.headers.get("x-amz-target", ""))
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        self.send_response(400)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def throttling_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysThrottled)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    reset_containers()
    _AlwaysThrottled.calls.clear()
    try:
        yield url
    finally:
        server.shutdown()
        reset_containers()


def test_a_throttled_start_is_sent_as_often_as_the_policy_allows_then_is_a_503(throttling_endpoint: str) -> None:
    # Given Step Functions that throttles every call, and a policy of three attempts
    flows = StepFunctions(policy=RetryPolicy(max_attempts=3, base_delay_s=0.0, sleep=lambda _s: None))

    # When an execution is started
    with pytest.raises(UpstreamUnavailable):
        flows.start_execution("arn:aws:states:us-east-1:123456789012:stateMachine:review", "run-1", {"pr": 7})

    # Then exactly three requests reached Step Functions (botocore's own retries would have made it 12)
    assert _AlwaysThrottled.calls == ["AWSStepFunctions.StartExecution"] * 3
