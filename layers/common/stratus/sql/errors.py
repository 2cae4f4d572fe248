"""Errors of the SQL layer; ``stratus.web`` turns them into problem+json like every ``StratusError``."""

from __future__ import annotations

from stratus.errors import UpstreamUnavailable, ValidationFailed


class UnsafeQuery(ValidationFailed):
    """The guard refused a statement; ``reason`` is a stable code, ``detail`` says what to change."""

    type_slug = "unsafe-query"
    title = "Query refused"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


class QueryFailed(ValidationFailed):
    """The database rejected a validated statement (unknown column, type error...)."""

    type_slug = "query-failed"
    title = "Query failed"


class QueryTimeout(QueryFailed):
    type_slug = "query-timeout"
    title = "Query took too long"


class DatabaseUnavailable(UpstreamUnavailable):
    """The database could not be reached (retried by ``stratus.retry`` before the caller sees it)."""
