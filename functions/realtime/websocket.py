"""WebSocket routes: ``$connect``, ``$disconnect``, ``subscribe``, ``unsubscribe``, ``ping``, ``$default``.

Messages are JSON with an ``action`` (the API's route selection expression). Replies and errors are
sent back on the same connection through the publisher, as API Gateway would deliver them.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from stratus.errors import StratusError, Unauthorized
from stratus.identity import Principal, principal_from_authorizer_context
from stratus.observability import logger
from stratus.realtime import get_connection_registry, get_topic_publisher

OK = {"statusCode": 200}


class TopicMessage(BaseModel):
    action: str
    topic: str


def _principal(event: dict[str, Any]) -> Principal:
    context = event["requestContext"].get("authorizer") or {}
    principal = principal_from_authorizer_context(context)
    if principal is not None:
        return principal
    if event["requestContext"]["routeKey"] == "$connect":
        # Behind API Gateway the authorizer already ran; only the dev server reaches here (API keys in DynamoDB).
        from stratus.identity import authenticate_headers

        headers = {k: v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}
        return authenticate_headers(headers, event.get("queryStringParameters") or {})
    raise Unauthorized("connection has no principal")


def _reply(principal: Principal, connection_id: str, message: dict[str, Any]) -> None:
    get_topic_publisher().send(principal.tenant_id, connection_id, message)


def handle_event(event: dict[str, Any]) -> dict[str, Any]:
    route = event["requestContext"]["routeKey"]
    connection_id = event["requestContext"]["connectionId"]
    logger.append_keys(connection_id=connection_id, route=route)
    try:
        principal = _principal(event)
    except StratusError as exc:
        logger.info("websocket refused", extra={"reason": exc.detail})
        return {"statusCode": 401, "body": exc.detail}

    registry = get_connection_registry()
    if route == "$connect":
        registry.connect(principal.tenant_id, principal.user_id, connection_id)
        return OK
    if route == "$disconnect":
        registry.disconnect(principal.tenant_id, connection_id)
        return OK

    try:
        body = json.loads(event.get("body") or "{}")
        if not isinstance(body, dict):
            raise ValueError("message must be a JSON object")
        if route in ("subscribe", "unsubscribe"):
            message = TopicMessage.model_validate(body)
            if route == "subscribe":
                registry.subscribe(principal.tenant_id, connection_id, message.topic)
            else:
                registry.unsubscribe(principal.tenant_id, connection_id, message.topic)
            _reply(principal, connection_id, {"type": f"{route}d", "topic": message.topic})
        elif route == "ping":
            registry.touch(principal.tenant_id, connection_id)
            _reply(principal, connection_id, {"type": "pong"})
        else:
            _reply(
                principal,
                connection_id,
                {
                    "type": "error",
                    "status": 400,
                    "detail": "unknown action; use subscribe, unsubscribe or ping",
                },
            )
    except (ValueError, ValidationError) as exc:
        _reply(principal, connection_id, {"type": "error", "status": 422, "detail": str(exc).splitlines()[0]})
    except StratusError as exc:
        _reply(principal, connection_id, {"type": "error", "status": exc.status, "detail": exc.detail})
    return OK
