"""RFC 9457 problem+json: the one place where errors become HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stratus.errors import StratusError
from stratus.observability import logger

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://stratus.dev/problems/"

_HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
}


_RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "request_id"})


def problem_response(
    status: int,
    title: str,
    detail: str,
    request: Request,
    type_slug: str,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + type_slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    extensions = dict(extensions or {})
    # An extension never overrides a standard member (a provider's own "status" would hide ours).
    body.update({k: v for k, v in extensions.items() if k not in _RESERVED_MEMBERS})
    headers = {}
    if "retry_after_s" in extensions:
        headers["Retry-After"] = str(int(extensions["retry_after_s"]))
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


async def handle_stratus_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StratusError)
    if exc.status >= 500:
        logger.warning("request failed upstream", extra={"status": exc.status, "detail": exc.detail})
    return problem_response(exc.status, exc.title, exc.detail, request, exc.type_slug, exc.extensions)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")),
            "location": str(error.get("loc", ("body",))[0]),
            "message": error.get("msg", "invalid"),
            "type": error.get("type", "invalid"),
        }
        for error in exc.errors()
    ]
    fields = ", ".join(sorted({e["field"] or e["location"] for e in errors}))
    return problem_response(
        422, "Validation failed", f"invalid request: {fields}", request, "validation-failed", {"errors": errors}
    )


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    if status == 404 and detail == "Not Found":
        detail = f"no route for {request.method} {request.url.path}"
    slug = _HTTP_TITLES.get(status, "error").lower().replace(" ", "-")
    return problem_response(status, _HTTP_TITLES.get(status, "Error"), detail, request, slug)


async def handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error")
    return problem_response(500, "Internal error", "the server failed to handle the request", request, "internal")
