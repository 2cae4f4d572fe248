"""The analyst service: conversational text-to-SQL over your databases, read-only by construction.

Routes are thin: parse, call one use case (received through ``analyst.wiring``), shape the response. The use
cases (and with them sqlglot, the database drivers, matplotlib) are imported on the first request that needs
them, never at cold start. Connecting, uploading and deleting databases is for admins.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response

from analyst.schemas import (
    ChartView,
    ConnectRequest,
    DatabaseDetailView,
    DatabaseView,
    ExplainView,
    HistoryView,
    QueryRequest,
    QueryView,
    SessionRequest,
    SessionView,
    UploadRequest,
    UploadTicketView,
    VisualizeRequest,
)
from analyst.wiring import Charts, Databases, Queries, Sessions, analyst_repository
from stratus.web import AdminPrincipal, CurrentPrincipal, Page, create_app, decode_cursor, encode_cursor, make_handler


def _table_reachable() -> None:
    analyst_repository().list_databases("health", 1, None)


app = create_app(
    "analyst",
    description="Ask your databases questions in plain language; every query is a validated, read-only SELECT.",
    health_checks={"table": _table_reachable},
)
Limit = Annotated[int, Query(ge=1, le=100)]


@app.post("/analyst/databases/uploads", status_code=201, response_model=UploadTicketView)
def create_upload(body: UploadRequest, principal: AdminPrincipal, databases: Databases) -> UploadTicketView:
    """A presigned POST for a SQLite or DuckDB file, to connect afterwards with its ``s3_key`` (admins only)."""
    return databases.upload_ticket(principal, body)


@app.post("/analyst/databases/connect", status_code=201, response_model=DatabaseDetailView)
def connect_database(body: ConnectRequest, principal: AdminPrincipal, databases: Databases) -> DatabaseDetailView:
    """Register the Chinook sample, an uploaded SQLite/DuckDB file, or a PostgreSQL database; its schema is
    introspected and stored. PostgreSQL passwords go to Secrets Manager and are never returned (admins only)."""
    return databases.connect(principal, body)


@app.get("/analyst/databases", response_model=Page[DatabaseView])
def list_databases(
    principal: CurrentPrincipal, databases: Databases, limit: Limit = 50, cursor: str | None = None
) -> Page[DatabaseView]:
    listing = databases.list(principal, limit, decode_cursor(principal.tenant_id, cursor))
    return Page[DatabaseView](items=listing.items, next_cursor=encode_cursor(principal.tenant_id, listing.position))


@app.get("/analyst/databases/{database_id}", response_model=DatabaseDetailView)
def get_database(database_id: str, principal: CurrentPrincipal, databases: Databases) -> DatabaseDetailView:
    return databases.get(principal, database_id)


@app.delete("/analyst/databases/{database_id}", status_code=204)
def delete_database(database_id: str, principal: AdminPrincipal, databases: Databases) -> Response:
    """The database, its stored catalog and file copy, its password and its cache entries (admins only)."""
    databases.delete(principal, database_id)
    return Response(status_code=204)


@app.post("/analyst/sessions", status_code=201, response_model=SessionView)
def create_session(body: SessionRequest, principal: CurrentPrincipal, sessions: Sessions) -> SessionView:
    return sessions.create(principal, body)


@app.get("/analyst/sessions", response_model=Page[SessionView])
def list_sessions(
    principal: CurrentPrincipal, sessions: Sessions, limit: Limit = 50, cursor: str | None = None
) -> Page[SessionView]:
    listing = sessions.list(principal, limit, decode_cursor(principal.tenant_id, cursor))
    return Page[SessionView](items=listing.items, next_cursor=encode_cursor(principal.tenant_id, listing.position))


@app.delete("/analyst/sessions/{session_id}", status_code=204)
def delete_session(session_id: str, principal: CurrentPrincipal, sessions: Sessions) -> Response:
    sessions.delete(principal, session_id)
    return Response(status_code=204)


@app.post("/analyst/sessions/{session_id}/query", response_model=QueryView)
def ask(session_id: str, body: QueryRequest, principal: CurrentPrincipal, queries: Queries) -> QueryView:
    """A question (or your own SELECT): the SQL, its validation, capped rows, a short answer, a chart."""
    return queries.ask(principal, session_id, body)


@app.get("/analyst/sessions/{session_id}/history", response_model=HistoryView)
def history(
    session_id: str, principal: CurrentPrincipal, queries: Queries, limit: Limit = 50, cursor: str | None = None
) -> HistoryView:
    listing = queries.history(principal, session_id, limit, decode_cursor(principal.tenant_id, cursor))
    return HistoryView(
        session_id=listing.session_id,
        database_id=listing.database_id,
        items=listing.turns.items,
        next_cursor=encode_cursor(principal.tenant_id, listing.turns.position),
    )


@app.post("/analyst/sessions/{session_id}/visualize", status_code=201, response_model=ChartView)
def visualize(session_id: str, body: VisualizeRequest, principal: CurrentPrincipal, charts: Charts) -> ChartView:
    """A Plotly figure and a server-rendered PNG (presigned link) for a query's result or a new question."""
    return charts.visualize(principal, session_id, body)


@app.get("/analyst/queries/{query_id}/explain", response_model=ExplainView)
def explain(query_id: str, principal: CurrentPrincipal, queries: Queries) -> ExplainView:
    """The SQL in plain language, the tables and joins it uses, and the database's own EXPLAIN plan."""
    return queries.explain(principal, query_id)


handler: Any = make_handler(app)
