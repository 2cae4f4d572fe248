"""The orchestrator's routes are thin: cursors and Last-Event-ID are read there, SSE is shaped there, and the use
cases arrive through the ``Tasks`` alias (swapped here with ``app.dependency_overrides``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.cache import reset_containers
from stratus.identity import Principal

TENANT = "tenant-a"


class RecordingTasks:
    """The TaskService calls the routes make, with canned answers."""

    def __init__(self) -> None:
        self.positions: list[dict[str, Any] | None] = []
        self.afters: list[int] = []

    def list_tasks(
        self, principal: Principal, limit: int, position: dict[str, Any] | None
    ) -> tuple[list[Any], dict[str, Any] | None]:
        from orchestrator.schemas import TaskSummaryView

        self.positions.append(position)
        task = TaskSummaryView(
            task_id="t1", goal="g", status="running", created_at="2026-01-01T00:00:00Z", finished_at=None
        )
        return [task], {"after": "t1"}

    def events(self, principal: Principal, task_id: str, *, after: int, limit: int, wait_s: float) -> Any:
        from orchestrator.schemas import EventPageView, EventView

        self.afters.append(after)
        items = [
            EventView(
                seq=seq, type="step.started", at="2026-01-01T00:00:00Z", parent=1, agent="a", step_id="s", data={}
            )
            for seq in range(after + 1, 4)
        ]
        return EventPageView(task_id=task_id, status="succeeded", items=items, next_after=3, last_seq=3)


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, RecordingTasks]]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("ORCHESTRATOR_TABLE", "orchestrator")
    reset_containers()
    from orchestrator.app import app
    from orchestrator.wiring import task_service
    from stratus.web import current_principal

    tasks = RecordingTasks()
    app.dependency_overrides[task_service] = lambda: tasks
    app.dependency_overrides[current_principal] = lambda: Principal(tenant_id=TENANT, user_id="alice")
    try:
        yield TestClient(app), tasks
    finally:
        app.dependency_overrides.clear()
        reset_containers()


def test_the_next_cursor_of_a_page_brings_the_same_position_back_to_the_use_case(
    routes: tuple[TestClient, RecordingTasks],
) -> None:
    client, tasks = routes

    first = client.get("/orchestrator/tasks")
    second = client.get("/orchestrator/tasks", params={"cursor": first.json()["next_cursor"]})

    assert first.status_code == 200 and second.status_code == 200
    assert tasks.positions == [None, {"after": "t1"}]


def test_another_tenants_or_a_broken_cursor_is_422_before_the_use_case_runs(
    routes: tuple[TestClient, RecordingTasks],
) -> None:
    from stratus.web import encode_cursor

    client, tasks = routes

    for cursor in (encode_cursor("tenant-b", {"after": "t9"}), "not-a-cursor"):
        response = client.get("/orchestrator/tasks", params={"cursor": cursor})
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert tasks.positions == []


def test_events_as_sse_resume_after_last_event_id_and_end_once_the_task_finished(
    routes: tuple[TestClient, RecordingTasks],
) -> None:
    client, tasks = routes

    response = client.get(
        "/orchestrator/tasks/t1/events", headers={"Accept": "text/event-stream", "Last-Event-ID": "1"}
    )

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert tasks.afters == [1]
    frames = response.text.strip().split("\n\n")
    assert frames[0] == "retry: 2000"
    assert [frame.split("\n")[:2] for frame in frames[1:3]] == [
        ["id: 2", "event: step.started"],
        ["id: 3", "event: step.started"],
    ]
    assert frames[-1].split("\n")[0] == "event: end"
    assert json.loads(frames[-1].split("\n")[1].removeprefix("data: ")) == {"status": "succeeded", "last_seq": 3}


def test_a_last_event_id_that_is_not_a_sequence_number_is_422(routes: tuple[TestClient, RecordingTasks]) -> None:
    client, tasks = routes

    response = client.get("/orchestrator/tasks/t1/events", headers={"Last-Event-ID": "abc"})

    assert response.status_code == 422 and "Last-Event-ID" in response.json()["detail"]
    assert tasks.afters == []
