"""The realtime service: API Gateway WebSocket routes, its HTTP health and publish routes, and scheduled cleanup.

One function serves three kinds of event: HTTP API requests (through ``make_handler``), WebSocket route events
and the EventBridge schedule; the last two are wrapped by ``instrument_handler`` here.
"""

from __future__ import annotations

from typing import Any

from realtime import websocket
from realtime.schemas import PublishedView, PublishRequest
from realtime.wiring import Topics
from stratus.observability import instrument_handler
from stratus.realtime import get_connection_registry, validate_topic
from stratus.web import CurrentPrincipal, create_app, make_handler


def _connections_table() -> None:
    get_connection_registry().subscribers("health", "health")


app = create_app(
    "realtime", description="WebSocket connections and topics", health_checks={"connections": _connections_table}
)


@app.post("/realtime/topics/{topic}/messages", status_code=202, response_model=PublishedView)
def publish_message(topic: str, body: PublishRequest, principal: CurrentPrincipal, topics: Topics) -> PublishedView:
    """Publish to one of your tenant's topics (services publish progress the same way)."""
    validate_topic(topic)
    delivered = topics.publish(
        principal.tenant_id, topic, {"type": "message", "data": body.data, "sender": principal.user_id}
    )
    return PublishedView(topic=topic, delivered=delivered)


def _is_websocket(event: dict[str, Any]) -> bool:
    request_context = event.get("requestContext") or {}
    return "connectionId" in request_context and "routeKey" in request_context


@instrument_handler
def _websocket_or_schedule(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if _is_websocket(event):
        return websocket.handle_event(event)
    return {"purged_connections": get_connection_registry().purge_expired()}


_http_handler = make_handler(app)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if _is_websocket(event) or event.get("detail-type") == "Scheduled Event":
        result: dict[str, Any] = _websocket_or_schedule(event, context)
        return result
    return _http_handler(event, context)
