"""The orchestrator API: multi-agent tasks on Step Functions, their live events, interrupts, and the agent registry.

Live progress: subscribe to the topic named after the task id on the realtime WebSocket API
(``{"action": "subscribe", "topic": "<task id>"}``); every event is also stored with a sequence
number, and ``GET /orchestrator/tasks/{task_id}/events?after=N`` (JSON, or SSE with ``Last-Event-ID``)
replays what a client missed. Behind API Gateway + Mangum an SSE response is delivered whole: it holds
the events there are (waiting up to ``wait`` seconds for the first), and EventSource reconnects with
``Last-Event-ID`` for the next ones.

Routes receive the use cases through ``orchestrator.wiring.Tasks``; the factory imports them on the first
request, so the container starts (and answers /health) without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Header, Query, Response
from fastapi.responses import JSONResponse

from orchestrator.schemas import (
    AgentView,
    CreateTaskRequest,
    EventPageView,
    InterruptRequest,
    RegisterAgentRequest,
    TaskAgentView,
    TaskSummaryView,
    TaskView,
)
from orchestrator.wiring import Tasks
from stratus.errors import ValidationFailed
from stratus.web import (
    AdminPrincipal,
    CurrentPrincipal,
    Page,
    create_app,
    decode_cursor,
    encode_cursor,
    make_handler,
    sse,
)

_FINISHED = ("succeeded", "failed", "cancelled")
_RECONNECT_MS = 2000


def _table() -> None:
    from orchestrator.wiring import get_repository

    get_repository().find_task("health", "t0000000000000000000000")


app = create_app(
    "orchestrator",
    description="Multi-agent tasks on Step Functions: live progress, pause/resume, approvals, audit trail",
    health_checks={"table": _table},
)


@app.post("/orchestrator/tasks", status_code=202, response_model=TaskView)
def create_task(body: CreateTaskRequest, principal: CurrentPrincipal, tasks: Tasks, response: Response) -> TaskView:
    """Start a task: 202 with its id; it runs as a Step Functions execution."""
    task = tasks.create_task(principal, body)
    response.headers["Location"] = task.links["self"]
    return task


@app.get("/orchestrator/tasks", response_model=Page[TaskSummaryView])
def list_tasks(
    principal: CurrentPrincipal,
    tasks: Tasks,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Page[TaskSummaryView]:
    items, position = tasks.list_tasks(principal, limit, decode_cursor(principal.tenant_id, cursor))
    return Page[TaskSummaryView](items=items, next_cursor=encode_cursor(principal.tenant_id, position))


@app.get("/orchestrator/tasks/{task_id}", response_model=TaskView)
def get_task(task_id: str, principal: CurrentPrincipal, tasks: Tasks) -> TaskView:
    return tasks.get_task(principal, task_id)


@app.delete("/orchestrator/tasks/{task_id}", status_code=204)
def delete_task(task_id: str, principal: CurrentPrincipal, tasks: Tasks) -> Response:
    """Delete a finished task with its steps and events (409 while it is not finished)."""
    tasks.delete_task(principal, task_id)
    return Response(status_code=204)


def _event_frames(page: EventPageView) -> Iterator[bytes]:
    """The page as SSE: a reconnect delay, one frame per event (id = sequence number), ``end`` once finished."""
    yield sse.format_retry(_RECONNECT_MS)
    for event in page.items:
        yield sse.format_event(event.type, event.model_dump(mode="json"), event.seq)
    if page.status in _FINISHED and page.next_after >= page.last_seq:
        yield sse.format_event("end", {"status": page.status, "last_seq": page.last_seq})


def _replay_after(after: int | None, last_event_id: str | None) -> int:
    if after is not None or last_event_id is None:
        return after or 0
    if not last_event_id.strip().isdigit():
        raise ValidationFailed("Last-Event-ID must be an event sequence number", field="Last-Event-ID")
    return int(last_event_id.strip())


@app.get(
    "/orchestrator/tasks/{task_id}/events",
    response_model=EventPageView,
    responses={200: {"content": {sse.MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
def task_events(
    task_id: str,
    principal: CurrentPrincipal,
    tasks: Tasks,
    after: Annotated[int | None, Query(ge=0, description="replay events with a higher sequence number")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Annotated[float, Query(ge=0, le=25, description="seconds to wait for the next event")] = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> EventPageView | Response:
    """The task's audit trail in order (an event tree: ``parent`` is the event that caused it); JSON or SSE."""
    page = tasks.events(principal, task_id, after=_replay_after(after, last_event_id), limit=limit, wait_s=wait)
    if sse.wants_event_stream(accept):
        return sse.event_stream(_event_frames(page))
    return page


@app.get("/orchestrator/tasks/{task_id}/agents", response_model=list[TaskAgentView])
def task_agents(task_id: str, principal: CurrentPrincipal, tasks: Tasks) -> list[TaskAgentView]:
    return tasks.task_agents(principal, task_id)


@app.post("/orchestrator/tasks/{task_id}/interrupt", response_model=TaskView)
def interrupt_task(task_id: str, body: InterruptRequest, principal: CurrentPrincipal, tasks: Tasks) -> TaskView:
    """pause | resume | approve | reject (with feedback) | cancel; 409 with the current state when it does not fit."""
    return tasks.interrupt(principal, task_id, body)


@app.get("/orchestrator/agents", response_model=list[AgentView])
def list_agents(principal: CurrentPrincipal, tasks: Tasks) -> list[AgentView]:
    """Built-in agents and the ones your tenant registered."""
    return tasks.list_agents(principal)


@app.post("/orchestrator/agents", status_code=201, response_model=AgentView)
def register_agent(body: RegisterAgentRequest, principal: AdminPrincipal, tasks: Tasks) -> JSONResponse:
    """Register an agent for your tenant (admins only)."""
    agent = tasks.register_agent(principal, body)
    return JSONResponse(
        agent.model_dump(mode="json"), status_code=201, headers={"Location": f"/orchestrator/agents/{agent.name}"}
    )


@app.get("/orchestrator/agents/{name}", response_model=AgentView)
def get_agent(name: str, principal: CurrentPrincipal, tasks: Tasks) -> AgentView:
    return tasks.get_agent(principal, name)


@app.delete("/orchestrator/agents/{name}", status_code=204)
def delete_agent(name: str, principal: AdminPrincipal, tasks: Tasks) -> Response:
    """Delete one of your tenant's agents (admins only)."""
    tasks.delete_agent(principal, name)
    return Response(status_code=204)


handler = make_handler(app)
