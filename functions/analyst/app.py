"""The analyst service: conversational text-to-SQL over your databases, read-only by construction.

Routes are thin: parse, call one ``AnalystService`` method, shape the response. The service module (and with
it sqlglot, the database drivers, matplotlib) is imported on the first request, never at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Query, Response

from analyst.models import (
    ChartView,
    ConnectRequest,
    DatabaseDetail,
    DatabaseView,
    ExplainView,
    HistoryView,
    QueryRequest,
    QueryView,
    SessionRequest,
    SessionView,
    UploadRequest,
    UploadTicket,
    VisualizeRequest,
)
from stratus.web import CurrentPrincipal, Page, create_app, make_handler

if TYPE_CHECKING:
    from analyst.service import AnalystService


def get_service() -> AnalystService:
    """The service, imported on the first request: its SQL, chart and model code stays out of the cold start."""
    from analyst.service import get_analyst_service

    return get_analyst_service()


def _table_reachable() -> None:
    service = get_service()
    service.store.list_databases("health", 1, None)


app = create_app(
    "analyst",
    description="Ask your databases questions in plain language; every query is a validated, read-only SELECT.",
    health_checks={"table": _table_reachable},
)
Service = Annotated["AnalystService", Depends(get_service)]
Limit = Annotated[int, Query(ge=1, le=100)]


@app.post("/analyst/databases/uploads", status_code=201, response_model=UploadTicket)
def create_upload(body: UploadRequest, principal: CurrentPrincipal, service: Service) -> UploadTicket:
    """A presigned POST for a SQLite or DuckDB file, to connect afterwards with its ``s3_key``."""
    return service.upload_ticket(principal, body)


@app.post("/analyst/databases/connect", status_code=201, response_model=DatabaseDetail)
def connect_database(body: ConnectRequest, principal: CurrentPrincipal, service: Service) -> DatabaseDetail:
    """Register the Chinook sample, an uploaded SQLite/DuckDB file, or a PostgreSQL database; its schema is
    introspected and stored. PostgreSQL passwords go to Secrets Manager and are never returned."""
    return service.connect(principal, body)


@app.get("/analyst/databases", response_model=Page[DatabaseView])
def list_databases(
    principal: CurrentPrincipal, service: Service, limit: Limit = 50, cursor: str | None = None
) -> Page[DatabaseView]:
    return service.list_databases(principal, limit, cursor)


@app.get("/analyst/databases/{database_id}", response_model=DatabaseDetail)
def get_database(database_id: str, principal: CurrentPrincipal, service: Service) -> DatabaseDetail:
    return service.get_database(principal, database_id)


@app.delete("/analyst/databases/{database_id}", status_code=204)
def delete_database(database_id: str, principal: CurrentPrincipal, service: Service) -> Response:
    service.delete_database(principal, database_id)
    return Response(status_code=204)


@app.post("/analyst/sessions", status_code=201, response_model=SessionView)
def create_session(body: SessionRequest, principal: CurrentPrincipal, service: Service) -> SessionView:
    return service.create_session(principal, body)


@app.get("/analyst/sessions", response_model=Page[SessionView])
def list_sessions(
    principal: CurrentPrincipal, service: Service, limit: Limit = 50, cursor: str | None = None
) -> Page[SessionView]:
    return service.list_sessions(principal, limit, cursor)


@app.delete("/analyst/sessions/{session_id}", status_code=204)
def delete_session(session_id: str, principal: CurrentPrincipal, service: Service) -> Response:
    service.delete_session(principal, session_id)
    return Response(status_code=204)


@app.post("/analyst/sessions/{session_id}/query", response_model=QueryView)
def ask(session_id: str, body: QueryRequest, principal: CurrentPrincipal, service: Service) -> QueryView:
    """A question (or your own SELECT): the SQL, its validation, capped rows, a short answer, a chart."""
    return service.ask(principal, session_id, body)


@app.get("/analyst/sessions/{session_id}/history", response_model=HistoryView)
def history(
    session_id: str, principal: CurrentPrincipal, service: Service, limit: Limit = 50, cursor: str | None = None
) -> HistoryView:
    return service.history(principal, session_id, limit, cursor)


@app.post("/analyst/sessions/{session_id}/visualize", status_code=201, response_model=ChartView)
def visualize(session_id: str, body: VisualizeRequest, principal: CurrentPrincipal, service: Service) -> ChartView:
    """A Plotly figure and a server-rendered PNG (presigned link) for a query's result or a new question."""
    return service.visualize(principal, session_id, body)


@app.get("/analyst/queries/{query_id}/explain", response_model=ExplainView)
def explain(query_id: str, principal: CurrentPrincipal, service: Service) -> ExplainView:
    """The SQL in plain language, the tables and joins it uses, and the database's own EXPLAIN plan."""
    return service.explain(principal, query_id)


handler: Any = make_handler(app)
