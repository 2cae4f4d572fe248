"""Domain errors. One place (``stratus.web``) maps them to RFC 9457 problem+json responses."""

from __future__ import annotations

from typing import Any, ClassVar


class StratusError(Exception):
    """Base of every error a caller may see. ``status`` is the HTTP status it maps to."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    type_slug: ClassVar[str] = "internal"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class BadRequest(StratusError):
    status, title, type_slug = 400, "Bad request", "bad-request"


class MalformedBody(BadRequest):
    """The request body cannot be parsed at all (JSON syntax, invalid UTF-8, nesting too deep)."""

    status, title, type_slug = 400, "Malformed request body", "malformed-body"


class Unauthorized(StratusError):
    status, title, type_slug = 401, "Unauthorized", "unauthorized"


class Forbidden(StratusError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(StratusError):
    """Also raised for another tenant's resource: its existence is never revealed."""

    status, title, type_slug = 404, "Not found", "not-found"


class Conflict(StratusError):
    status, title, type_slug = 409, "Conflict", "conflict"


class PayloadTooLarge(StratusError):
    status, title, type_slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(StratusError):
    status, title, type_slug = 415, "Unsupported media type", "unsupported-media-type"


class ValidationFailed(StratusError):
    status, title, type_slug = 422, "Validation failed", "validation-failed"


class RateLimited(StratusError):
    status, title, type_slug = 429, "Too many requests", "rate-limited"


class UpstreamFailed(StratusError):
    """A provider (model, GitHub, search) answered with an error after bounded retries."""

    status, title, type_slug = 502, "Upstream provider failed", "upstream-failed"


class UpstreamUnavailable(StratusError):
    """A provider timed out or was throttled past the retry budget."""

    status, title, type_slug = 503, "Upstream provider unavailable", "upstream-unavailable"
