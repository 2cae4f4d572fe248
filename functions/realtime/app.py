"""The realtime service: API Gateway WebSocket routes, its HTTP health route, and scheduled cleanup."""

from __future__ import annotations

from typing import Any

from realtime import websocket
from stratus.realtime import get_connection_registry
from stratus.web import create_app, make_handler


def _connections_table() -> None:
    get_connection_registry().subscribers("health", "health")


app = create_app("realtime", description="WebSocket connections and topics", health_checks={"connections": _connections_table})
_http_handler = make_handler(app)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request_context = event.get("requestContext") or {}
    if "connectionId" in request_context and "routeKey" in request_context:
        return websocket.handle_event(event)
    if event.get("detail-type") == "Scheduled Event":
        return {"purged_connections": get_connection_registry().purge_expired()}
    return _http_handler(event, context)
