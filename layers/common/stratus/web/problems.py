"""RFC 9457 problem+json: the one place where errors become HTTP responses."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stratus.errors import MalformedBody, StratusError
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


def _line_and_column(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column} (character {offset})"


def _deepest_nesting(text: str, stop_above: int) -> tuple[int, int]:
    """The deepest array/object level of a JSON text (strings skipped) and where it opens; the scan stops
    one level above ``stop_above``, so a huge body costs no more than the parser spent on it."""
    depth = deepest = at = 0
    in_string = escaped = False
    for offset, char in enumerate(text):
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, offset
                if deepest > stop_above:
                    break
        elif char in "]}":
            depth -= 1
    return deepest, at


def malformed_body(cause: BaseException | None, body: bytes | str | None) -> MalformedBody:
    """Why a body could not be parsed and where: a JSON syntax error, invalid UTF-8 or nesting too deep."""
    if isinstance(cause, json.JSONDecodeError):
        return MalformedBody(f"request body is not valid JSON: {cause.msg} at {_line_and_column(cause.doc, cause.pos)}")
    if isinstance(cause, UnicodeDecodeError):
        return MalformedBody(f"request body is not valid UTF-8: {cause.reason} at byte offset {cause.start}")
    if isinstance(cause, RecursionError) and body is not None:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        depth, offset = _deepest_nesting(text, stop_above=sys.getrecursionlimit())
        return MalformedBody(
            f"request body nests arrays or objects too deeply to parse: level {depth} opens at "
            f"{_line_and_column(text, offset)}"
        )
    return MalformedBody("request body could not be parsed")


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    unparsed = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if unparsed is not None and isinstance(exc.body, str):
        # FastAPI reports a JSON syntax error as a validation error whose "field" is the offset.
        offset = unparsed["loc"][-1] if isinstance(unparsed["loc"][-1], int) else 0
        message = str((unparsed.get("ctx") or {}).get("error", "syntax error"))
        cause = json.JSONDecodeError(message, exc.body, offset)
        return await handle_stratus_error(request, malformed_body(cause, None))
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
    if status == 400 and exc.__cause__ is not None:
        # FastAPI turns any body parse failure (invalid UTF-8, RecursionError) into a bare 400.
        body = getattr(request, "_body", None)
        return await handle_stratus_error(request, malformed_body(exc.__cause__, body))
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    if status == 404 and detail == "Not Found":
        detail = f"no route for {request.method} {request.url.path}"
    slug = _HTTP_TITLES.get(status, "error").lower().replace(" ", "-")
    return problem_response(status, _HTTP_TITLES.get(status, "Error"), detail, request, slug)


async def handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error")
    return problem_response(500, "Internal error", "the server failed to handle the request", request, "internal")
