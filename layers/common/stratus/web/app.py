"""The FastAPI app factory every service uses, and the Mangum handler factory."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stratus import __version__
from stratus.config import get_settings
from stratus.errors import StratusError
from stratus.observability import instrument_handler, set_correlation_id
from stratus.web.problems import (
    PROBLEM_BASE,
    PROBLEM_CONTENT_TYPE,
    handle_http_error,
    handle_stratus_error,
    handle_unexpected_error,
    handle_validation_error,
)

HealthCheck = Callable[[], None]
"""A dependency check for ``/health``: returns when healthy, raises with the reason otherwise."""


class RequestContextMiddleware:
    """Request ids (from ``X-Request-Id`` or API Gateway's id), correlation ids, and the body limit."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        event = scope.get("aws.event") or {}
        request_id = (
            headers.get("x-request-id")
            or (event.get("requestContext", {}) if isinstance(event, dict) else {}).get("requestId")
            or uuid.uuid4().hex
        )[:128]
        scope.setdefault("state", {})["request_id"] = request_id
        set_correlation_id(request_id)

        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, send, request_id)
            return

        received = 0
        limit = self.max_body_bytes

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            await self._too_large(scope, send, request_id)

    async def _too_large(self, scope: Scope, send: Send, request_id: str) -> None:
        import json

        body = json.dumps(
            {
                "type": PROBLEM_BASE + "payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"request body exceeds {self.max_body_bytes} bytes",
                "instance": scope.get("path", ""),
                "request_id": request_id,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


def create_app(
    service: str,
    *,
    version: str = __version__,
    description: str = "",
    health_checks: Mapping[str, HealthCheck] | None = None,
) -> FastAPI:
    """A FastAPI app for one service; every route lives under ``/<service>``."""
    settings = get_settings()
    prefix = f"/{service}"
    app = FastAPI(
        title=f"Stratus {service}",
        version=version,
        description=description,
        docs_url=f"{prefix}/docs",
        redoc_url=None,
        openapi_url=f"{prefix}/openapi.json",
        swagger_ui_oauth2_redirect_url=f"{prefix}/docs/oauth2-redirect",
    )
    app.add_exception_handler(StratusError, handle_stratus_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    checks = dict(health_checks or {})

    @app.get(f"{prefix}/health", tags=["health"], summary="Anonymous: version and dependency checks")
    def health() -> dict[str, Any]:
        return run_health_checks(service, version, checks)

    app.state.service = service
    app.state.health_checks = checks
    return app


def run_health_checks(service: str, version: str, checks: Mapping[str, HealthCheck]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    healthy = True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
        except Exception as exc:  # a health check reports any failure as data, never raises
            healthy = False
            results[name] = {"status": "error", "detail": f"{type(exc).__name__}: {exc}"}
    return {"service": service, "version": version, "status": "ok" if healthy else "degraded", "checks": results}


def make_handler(app: FastAPI) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point: Powertools context + metrics around Mangum."""
    from mangum import Mangum

    mangum = Mangum(app, lifespan="off")

    @instrument_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        result: dict[str, Any] = mangum(event, context)
        return result

    return handler
