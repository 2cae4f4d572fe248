"""The dev server: every FastAPI app at its template route, a WebSocket bridge to ``realtime``, one process.

``python -m stratus.local.devserver`` (what ``make dev`` runs) starts the embedded AWS in server
mode, creates a dev tenant and API key, and serves on 127.0.0.1:8000:
- HTTP: each request is matched against the template's HttpApi routes and handed to that
  function's FastAPI app (the same app Mangum wraps on AWS); ``GET /health`` aggregates them all.
- WebSocket ``/ws?auth=<key or token>``: connect / message / disconnect become API Gateway
  WebSocket events for the template's routes (authorizer on ``$connect`` included), and whatever
  the publisher posts to a connection id is delivered to that socket.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import re
import secrets
import time
import warnings
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from stratus.local.lambda_dispatch import invoke_handler, resolve_handler
from stratus.local.template import HttpRoute, Template, WebSocketRoute

log = logging.getLogger("stratus.local")
WEBSOCKET_PATH = "/ws"


@dataclass
class _CompiledRoute:
    route: HttpRoute
    pattern: re.Pattern[str]
    app: ASGIApp


def _compile(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            regex += rf"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += rf"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}/?$")


class DevGateway:
    """An ASGI app standing in for API Gateway (HTTP API + WebSocket API)."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.routes: list[_CompiledRoute] = []
        for route in template.http_routes():
            module = __import__(route.module, fromlist=["app"])
            self.routes.append(_CompiledRoute(route, _compile(route.path), module.app))
        # More literal paths first, so /x/items/search wins over /x/items/{id}.
        self.routes.sort(key=lambda r: (r.route.path.count("{"), -len(r.route.path)))
        self.websocket_routes: dict[str, WebSocketRoute] = template.websocket_routes()


    def match(self, method: str, path: str) -> tuple[_CompiledRoute | None, bool]:
        """The route for (method, path), and whether the path exists for some other method."""
        path_exists = False
        for compiled in self.routes:
            if compiled.pattern.match(path):
                path_exists = True
                if compiled.route.method in (method, "ANY") or (method == "HEAD" and compiled.route.method == "GET"):
                    return compiled, True
        return None, path_exists

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] == "websocket":
            if scope["path"] == WEBSOCKET_PATH:
                await self._websocket(WebSocket(scope, receive, send))
            else:
                await WebSocket(scope, receive, send).close(code=4404)
            return
        path, method = scope["path"], scope["method"]
        if path == "/health" and method == "GET":
            await self._json(send, 200, await run_in_threadpool(self.health))
            return
        compiled, path_exists = self.match(method, path)
        if compiled is None:
            status = 405 if path_exists else 404
            await self._json(
                send,
                status,
                {
                    "type": "https://stratus.dev/problems/" + ("method-not-allowed" if path_exists else "not-found"),
                    "title": "Method not allowed" if path_exists else "Not found",
                    "status": status,
                    "detail": f"no route for {method} {path}",
                    "instance": path,
                },
                content_type="application/problem+json",
            )
            return
        await compiled.app(scope, receive, send)

    def health(self) -> dict[str, Any]:
        from stratus.web.app import run_health_checks

        services: dict[str, Any] = {}
        seen: set[int] = set()
        for compiled in self.routes:
            app: Any = compiled.app
            if id(app) in seen or not hasattr(app, "state") or not hasattr(app.state, "service"):
                continue
            seen.add(id(app))
            services[app.state.service] = run_health_checks(app.state.service, app.version, app.state.health_checks)
        healthy = all(s["status"] == "ok" for s in services.values())
        return {"status": "ok" if healthy else "degraded", "services": services}

    @staticmethod
    async def _json(send: Send, status: int, body: dict[str, Any], content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(data)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": data})


    def _ws_event(
        self,
        route_key: str,
        connection_id: str,
        websocket: WebSocket,
        authorizer: dict[str, Any] | None,
        body: str | None = None,
    ) -> dict[str, Any]:
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
        request_context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "connectionId": connection_id,
            "requestId": secrets.token_hex(8),
            "domainName": websocket.url.hostname or "127.0.0.1",
            "stage": "local",
            "apiId": "local",
            "connectedAt": int(time.time() * 1000),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": websocket.client.host if websocket.client else "127.0.0.1"},
        }
        if authorizer is not None:
            request_context["authorizer"] = authorizer
        event: dict[str, Any] = {"requestContext": request_context, "isBase64Encoded": False}
        if route_key == "$connect":
            event["headers"] = dict(websocket.headers)
            event["queryStringParameters"] = dict(websocket.query_params) or None
        if body is not None:
            event["body"] = body
        return event

    def _route_for(self, body: str) -> WebSocketRoute | None:
        try:
            action = json.loads(body).get("action")
        except (ValueError, AttributeError):
            action = None
        if isinstance(action, str) and action in self.websocket_routes and not action.startswith("$"):
            return self.websocket_routes[action]
        return self.websocket_routes.get("$default")

    async def _authorize(self, route: WebSocketRoute, websocket: WebSocket) -> dict[str, Any] | None:
        """Run the route's Lambda authorizer as API Gateway does; None means 401."""
        if route.authorizer_handler is None:
            return {}
        event = {
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:local/local/$connect",
            "headers": dict(websocket.headers),
            "queryStringParameters": dict(websocket.query_params),
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "stage": "local"},
        }
        try:
            result = await run_in_threadpool(invoke_handler, route.authorizer_handler, event)
        except Exception:
            return None
        statements = result.get("policyDocument", {}).get("Statement", [])
        if not statements or any(s.get("Effect") != "Allow" for s in statements):
            return None
        return {"principalId": result.get("principalId"), **result.get("context", {})}

    async def _websocket(self, websocket: WebSocket) -> None:
        from starlette.responses import JSONResponse

        from stratus.realtime import local_hub

        connect = self.websocket_routes.get("$connect")
        connection_id = base64.b64encode(secrets.token_bytes(12)).decode().rstrip("=")
        authorizer: dict[str, Any] | None = {}
        if connect is not None:
            authorizer = await self._authorize(connect, websocket)
            if authorizer is None:
                await websocket.send_denial_response(
                    JSONResponse(
                        {"title": "Unauthorized", "status": 401, "detail": "pass ?auth=<API key or token>"},
                        status_code=401,
                        media_type="application/problem+json",
                    )
                )
                return
            result = await run_in_threadpool(
                invoke_handler, connect.handler, self._ws_event("$connect", connection_id, websocket, authorizer)
            )
            status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
            if status >= 300:
                await websocket.send_denial_response(
                    JSONResponse(
                        {"title": "Connection refused", "status": status, "detail": str(result.get("body", ""))},
                        status_code=status,
                        media_type="application/problem+json",
                    )
                )
                return
        loop = asyncio.get_running_loop()
        outbox: asyncio.Queue[bytes] = asyncio.Queue()
        await websocket.accept()
        local_hub.register(connection_id, loop, outbox)

        async def deliver() -> None:
            while True:
                data = await outbox.get()
                await websocket.send_text(data.decode())

        sender = asyncio.create_task(deliver())
        try:
            while True:
                body = await websocket.receive_text()
                route = self._route_for(body)
                if route is not None:
                    event = self._ws_event(route.route_key, connection_id, websocket, authorizer, body)
                    await run_in_threadpool(invoke_handler, route.handler, event)
        except WebSocketDisconnect:
            pass
        finally:
            local_hub.unregister(connection_id)
            sender.cancel()
            disconnect = self.websocket_routes.get("$disconnect")
            if disconnect is not None:
                event = self._ws_event("$disconnect", connection_id, websocket, authorizer)
                await run_in_threadpool(invoke_handler, disconnect.handler, event)


def build_gateway(template: Template) -> DevGateway:
    for route in template.http_routes():
        resolve_handler(route.handler)  # import every handler once, as warm containers
    return DevGateway(template)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stratus local stack: embedded AWS + every service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--tenant", default="dev")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvicorn

    from stratus.identity import get_identity_service
    from stratus.local.embedded import EmbeddedAws, local_provider_environment

    started = time.perf_counter()
    aws = EmbeddedAws(server=True, environment=local_provider_environment()).start()
    api_key = get_identity_service().bootstrap_dev_tenant(args.tenant)
    gateway = build_gateway(aws.template)
    assert aws.event_sources is not None
    aws.event_sources.start()
    base = f"http://{args.host}:{args.port}"
    print(
        f"""
Stratus local stack is up ({time.perf_counter() - started:.1f}s): embedded AWS at {aws.endpoint_url}

  API        {base}            (every service under its prefix, e.g. {base}/realtime/health)
  Health     curl {base}/health
  WebSocket  ws://{args.host}:{args.port}{WEBSOCKET_PATH}?auth=$STRATUS_API_KEY
  AWS CLI    aws --endpoint-url {aws.endpoint_url} dynamodb list-tables

  Dev tenant '{args.tenant}', admin API key (shown once, new on every start):
    export STRATUS_API_KEY={api_key}
    curl -H "X-Api-Key: $STRATUS_API_KEY" {base}/...
""",
        flush=True,
    )
    try:
        uvicorn.run(
            gateway, host=args.host, port=args.port, log_level="warning", ws="websockets-sansio", lifespan="off"
        )
    finally:
        aws.stop()


if __name__ == "__main__":
    main()
