"""Errors of the SQL layer; ``stratus.web`` turns them into problem+json like every ``StratusError``."""

from __future__ import annotations

from typing import Final

from stratus.errors import UpstreamUnavailable, ValidationFailed

# One message for every way a connection fails: the driver's text would reveal port states, banners and roles.
CONNECT_FAILED: Final = "could not connect with these settings: check host, port, database, user and password"


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


class ConnectionRejected(ValidationFailed):
    """The database refused or could not take these connection settings; the cause is logged, never returned."""

    type_slug = "connection-failed"
    title = "Could not connect to the database"

    def __init__(self, detail: str = CONNECT_FAILED) -> None:
        super().__init__(detail)
