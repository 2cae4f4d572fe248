"""A WebSocket client, through the dev gateway, against the real realtime handlers on the embedded AWS."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from stratus.local.embedded import EmbeddedAws
from stratus.realtime import get_connection_registry, get_topic_publisher
from tests.integration.conftest import TenantKey


def receive(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.receive_text())
    return message


def subscribe(ws: Any, topic: str) -> None:
    ws.send_text(json.dumps({"action": "subscribe", "topic": topic}))
    assert receive(ws) == {"type": "subscribed", "topic": topic}


def test_subscriber_receives_exactly_its_topic_and_never_another_tenants(
    client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey
) -> None:
    # Given a client of tenant A and one of tenant B, both subscribed to a topic named "task-1"
    with (
        client.websocket_connect(f"/ws?auth={tenant_a.api_key}") as ws_a,
        client.websocket_connect(f"/ws?auth={tenant_b.api_key}") as ws_b,
    ):
        subscribe(ws_a, "task-1")
        subscribe(ws_b, "task-1")
        publisher = get_topic_publisher()

        # When tenant A publishes on task-1 and task-2, and tenant B on its own task-1
        assert publisher.publish("tenant-a", "task-1", {"type": "progress", "step": 1}) == 1
        assert publisher.publish("tenant-a", "task-2", {"type": "progress", "step": 99}) == 0
        assert publisher.publish("tenant-b", "task-1", {"type": "progress", "step": "b"}) == 1
        assert publisher.publish("tenant-a", "task-1", {"type": "progress", "step": 2}) == 1

        # Then A receives exactly its two task-1 messages in order, then the pong: nothing else came in between
        assert receive(ws_a) == {"topic": "task-1", "type": "progress", "step": 1}
        assert receive(ws_a) == {"topic": "task-1", "type": "progress", "step": 2}
        ws_a.send_text(json.dumps({"action": "ping"}))
        assert receive(ws_a) == {"type": "pong"}
        # And B receives only its own tenant's message
        assert receive(ws_b) == {"topic": "task-1", "type": "progress", "step": "b"}
        ws_b.send_text(json.dumps({"action": "ping"}))
        assert receive(ws_b) == {"type": "pong"}


def test_connect_without_or_with_bad_credentials_is_refused_with_401(client: TestClient, tenant_a: TenantKey) -> None:
    for url in (
        "/ws",
        "/ws?auth=stk.tenant-a.0000000000000000.wrongwrongwrongwrongwrongwrongwrongwrong",
        "/ws?auth=junk",
    ):
        with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(url):
            pass
        assert refused.value.status_code == 401


def test_connect_with_a_jwt_in_the_query_string(client: TestClient, tenant_a: TenantKey) -> None:
    from stratus.identity import Principal, get_identity_service

    token = get_identity_service().issue_token(Principal(tenant_id="tenant-a", user_id="alice"))
    with client.websocket_connect(f"/ws?auth={token}") as ws:
        subscribe(ws, "reports")
        assert get_topic_publisher().publish("tenant-a", "reports", {"ok": True}) == 1
        assert receive(ws) == {"topic": "reports", "ok": True}


def test_unsubscribe_stops_delivery_and_disconnect_removes_the_connection(
    client: TestClient, tenant_a: TenantKey
) -> None:
    registry = get_connection_registry()
    with client.websocket_connect(f"/ws?auth={tenant_a.api_key}") as ws:
        subscribe(ws, "task-9")
        ws.send_text(json.dumps({"action": "unsubscribe", "topic": "task-9"}))
        assert receive(ws) == {"type": "unsubscribed", "topic": "task-9"}
        assert get_topic_publisher().publish("tenant-a", "task-9", {"late": True}) == 0
        subscribe(ws, "task-10")
        assert len(registry.subscribers("tenant-a", "task-10")) == 1
    # After the socket closes, $disconnect has removed the connection and its subscriptions
    deadline = time.monotonic() + 5
    while registry.subscribers("tenant-a", "task-10") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert registry.subscribers("tenant-a", "task-10") == []


def test_bad_messages_get_an_error_reply_on_the_socket(client: TestClient, tenant_a: TenantKey) -> None:
    with client.websocket_connect(f"/ws?auth={tenant_a.api_key}") as ws:
        ws.send_text(json.dumps({"action": "subscribe", "topic": "bad topic with spaces"}))
        error = receive(ws)
        assert error["type"] == "error" and error["status"] == 422 and "topic" in error["detail"]
        ws.send_text(json.dumps({"action": "dance"}))
        assert receive(ws)["status"] == 400
        ws.send_text("not json")
        assert receive(ws)["status"] == 422


def test_publish_over_http_reaches_the_subscribers_of_the_callers_tenant(
    client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey
) -> None:
    with client.websocket_connect(f"/ws?auth={tenant_a.api_key}") as ws:
        subscribe(ws, "deploys")
        # Tenant B publishing on a topic of the same name reaches nobody of tenant A
        response = client.post(
            "/realtime/topics/deploys/messages", json={"data": {"v": "b"}}, headers={"X-Api-Key": tenant_b.api_key}
        )
        assert response.status_code == 202 and response.json()["delivered"] == 0
        response = client.post(
            "/realtime/topics/deploys/messages", json={"data": {"v": 1}}, headers={"X-Api-Key": tenant_a.api_key}
        )
        assert response.status_code == 202 and response.json() == {"topic": "deploys", "delivered": 1}
        assert receive(ws) == {"topic": "deploys", "type": "message", "data": {"v": 1}, "sender": "alice"}


def test_publish_without_credentials_is_401_problem_json(client: TestClient) -> None:
    response = client.post("/realtime/topics/deploys/messages", json={"data": {}})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Unauthorized"


def test_stale_connections_are_purged_and_gone_connections_dropped(aws: EmbeddedAws, tenant_a: TenantKey) -> None:
    registry = get_connection_registry()
    # Given a connection that the dev server does not hold (as API Gateway's GoneException reports)
    registry.connect("tenant-a", "alice", "gone-connection")
    registry.subscribe("tenant-a", "gone-connection", "task-1")
    # When a message is published, the gone connection is dropped instead of failing the publish
    assert get_topic_publisher().publish("tenant-a", "task-1", {"n": 1}) == 0
    assert registry.subscribers("tenant-a", "task-1") == []
    # And a connection whose keep-alive lapsed is purged by the scheduled cleanup
    registry.connect("tenant-a", "alice", "idle-connection")
    registry.subscribe("tenant-a", "idle-connection", "task-2")
    assert registry.purge_expired(now=int(time.time()) + 10 * 24 * 3600) == 1
    assert registry.subscribers("tenant-a", "task-2") == []


def test_scheduled_cleanup_event_runs_through_the_lambda(aws: EmbeddedAws, tenant_a: TenantKey) -> None:
    # The template's Schedule event reaches the realtime function as an EventBridge Scheduled Event
    lambda_client = aws.client("lambda")
    result = lambda_client.invoke(
        FunctionName=aws.physical_name("RealtimeFunction"),
        Payload=json.dumps({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
    )
    assert json.loads(result["Payload"].read()) == {"purged_connections": 0}
