"""The orchestrator API: multi-agent tasks on Step Functions, their live events, interrupts, and the agent registry.

Live progress: subscribe to the topic named after the task id on the realtime WebSocket API
(``{"action": "subscribe", "topic": "<task id>"}``); every event is also stored with a sequence
number, and ``GET /orchestrator/tasks/{task_id}/events?after=N`` (JSON, or SSE with ``Last-Event-ID``)
replays what a client missed. Behind API Gateway + Mangum an SSE response is delivered whole: it holds
the events there are (waiting up to ``wait`` seconds for the first), and EventSource reconnects with
``Last-Event-ID`` for the next ones.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

from fastapi import Header, Query, Request, Response
from fastapi.responses import JSONResponse

from orchestrator.domain import (
    AgentCreate,
    AgentView,
    EventPage,
    InterruptRequest,
    TaskAgentView,
    TaskCreate,
    TaskSummary,
    TaskView,
)
from stratus.errors import ValidationFailed
from stratus.web import CurrentPrincipal, Page, create_app, make_handler

if TYPE_CHECKING:
    from orchestrator.service import TaskService


def _table() -> None:
    from orchestrator.wiring import get_repository

    get_repository().find_task("health", "t0000000000000000000000")


app = create_app(
    "orchestrator",
    description="Multi-agent tasks on Step Functions: live progress, pause/resume, approvals, audit trail",
    health_checks={"table": _table},
)


def service() -> TaskService:
    """The use cases, imported on the first request: the repository, Step Functions and tokens are not needed to
    start the container (or to answer /health)."""
    from orchestrator.service import TaskService
    from orchestrator.settings import get_orchestrator_settings
    from orchestrator.wiring import get_progress_log, get_repository, get_step_functions, get_token_store

    return TaskService(
        get_orchestrator_settings(), get_repository(), get_progress_log(), get_token_store(), get_step_functions()
    )


@app.post("/orchestrator/tasks", status_code=202, response_model=TaskView)
def create_task(body: TaskCreate, principal: CurrentPrincipal, response: Response) -> TaskView:
    """Start a task: 202 with its id; it runs as a Step Functions execution."""
    task = service().create_task(principal, body)
    response.headers["Location"] = task.links["self"]
    return task


@app.get("/orchestrator/tasks", response_model=Page[TaskSummary])
def list_tasks(
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Page[TaskSummary]:
    return service().list_tasks(principal, limit, cursor)


@app.get("/orchestrator/tasks/{task_id}", response_model=TaskView)
def get_task(task_id: str, principal: CurrentPrincipal) -> TaskView:
    return service().get_task(principal, task_id)


@app.delete("/orchestrator/tasks/{task_id}", status_code=204)
def delete_task(task_id: str, principal: CurrentPrincipal) -> Response:
    """Delete a finished task with its steps and events (409 while it is not finished)."""
    service().delete_task(principal, task_id)
    return Response(status_code=204)


def _sse(page: EventPage) -> str:
    lines = ["retry: 2000", ""]
    for event in page.items:
        lines += [f"id: {event.seq}", f"event: {event.type}", f"data: {json.dumps(event.model_dump(mode='json'))}", ""]
    if page.status in ("succeeded", "failed", "cancelled") and page.next_after >= page.last_seq:
        lines += ["event: end", f"data: {json.dumps({'status': page.status, 'last_seq': page.last_seq})}", ""]
    return "\n".join(lines) + "\n"


@app.get("/orchestrator/tasks/{task_id}/events", response_model=EventPage)
def task_events(
    task_id: str,
    principal: CurrentPrincipal,
    request: Request,
    after: Annotated[int | None, Query(ge=0, description="replay events with a higher sequence number")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Annotated[float, Query(ge=0, le=25, description="seconds to wait for the next event")] = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventPage | Response:
    """The task's audit trail in order (an event tree: ``parent`` is the event that caused it); JSON or SSE."""
    if after is None and last_event_id is not None:
        if not last_event_id.strip().isdigit():
            raise ValidationFailed("Last-Event-ID must be an event sequence number", field="Last-Event-ID")
        after = int(last_event_id.strip())
    page = service().events(principal, task_id, after=after or 0, limit=limit, wait_s=wait)
    if "text/event-stream" in request.headers.get("accept", ""):
        return Response(_sse(page), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    return page


@app.get("/orchestrator/tasks/{task_id}/agents", response_model=list[TaskAgentView])
def task_agents(task_id: str, principal: CurrentPrincipal) -> list[TaskAgentView]:
    return service().task_agents(principal, task_id)


@app.post("/orchestrator/tasks/{task_id}/interrupt", response_model=TaskView)
def interrupt_task(task_id: str, body: InterruptRequest, principal: CurrentPrincipal) -> TaskView:
    """pause | resume | approve | reject (with feedback) | cancel; 409 with the current state when it does not fit."""
    return service().interrupt(principal, task_id, body)


@app.get("/orchestrator/agents", response_model=list[AgentView])
def list_agents(principal: CurrentPrincipal) -> list[AgentView]:
    """Built-in agents and the ones your tenant registered."""
    return service().list_agents(principal)


@app.post("/orchestrator/agents", status_code=201, response_model=AgentView)
def register_agent(body: AgentCreate, principal: CurrentPrincipal) -> JSONResponse:
    agent = service().register_agent(principal, body)
    return JSONResponse(
        agent.model_dump(mode="json"), status_code=201, headers={"Location": f"/orchestrator/agents/{agent.name}"}
    )


@app.get("/orchestrator/agents/{name}", response_model=AgentView)
def get_agent(name: str, principal: CurrentPrincipal) -> AgentView:
    return service().get_agent(principal, name)


@app.delete("/orchestrator/agents/{name}", status_code=204)
def delete_agent(name: str, principal: CurrentPrincipal) -> Response:
    service().delete_agent(principal, name)
    return Response(status_code=204)


handler = make_handler(app)
