"""Live events over the realtime WebSocket are exactly the stored ones, in order; replay fills a disconnect."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from tests.integration.conftest import TenantKey, auth
from tests.integration.orchestrator.conftest import create_task, events, interrupt, wait_for, wait_status


def receive(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.receive_text())
    return message


def last_event(client: TestClient, key: TenantKey, task: dict[str, Any]) -> str:
    return str(events(client, key, task["task_id"], after=task["last_event_seq"] - 1)[-1]["type"])


def waiting_at(checkpoint: str) -> Any:
    return lambda task: task["status"] == "awaiting_approval" and task["waiting"]["checkpoint"] == checkpoint


def test_a_subscriber_receives_exactly_the_stored_events_and_replay_fills_the_gap_after_a_disconnect(
    client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey
) -> None:
    # Given a task that waits at its plan approval, and a client that subscribes only now (it missed the start)
    created = create_task(
        client,
        tenant_a,
        agents=["research", "writing"],
        options={"approvals": {"after_plan": True, "before_final": True}},
    )
    task_id = created["task_id"]
    wait_for(client, tenant_a, task_id, waiting_at("after_plan"), "awaiting the plan's approval")
    missed = events(client, tenant_a, task_id)

    with (
        client.websocket_connect(f"/ws?auth={tenant_a.api_key}") as ws,
        client.websocket_connect(f"/ws?auth={tenant_b.api_key}") as intruder,
    ):
        for socket in (ws, intruder):
            socket.send_text(json.dumps({"action": "subscribe", "topic": task_id}))
            assert receive(socket) == {"type": "subscribed", "topic": task_id}

        # When the plan is approved and the agents work until the result's checkpoint
        assert interrupt(client, tenant_a, task_id, "approve").status_code == 200
        wait_for(client, tenant_a, task_id, waiting_at("before_final"), "awaiting the result's approval")
        # The status changes first, then the checkpoint's event is recorded: wait for that event too
        task = wait_for(
            client, tenant_a, task_id, lambda t: last_event(client, tenant_a, t) == "checkpoint.waiting", "announced"
        )
        stored = events(client, tenant_a, task_id, after=missed[-1]["seq"])
        assert stored[-1]["seq"] == task["last_event_seq"]

        # Then the socket delivered exactly the stored events, in order, each once
        live = [receive(ws) for _ in stored]
        assert all(message.pop("topic") == task_id for message in live)
        assert live == stored
        assert [m["seq"] for m in live] == list(range(missed[-1]["seq"] + 1, stored[-1]["seq"] + 1))

        # And another tenant subscribed to a topic of the same name received nothing of it
        intruder.send_text(json.dumps({"action": "ping"}))
        assert receive(intruder) == {"type": "pong"}

    # When the socket is gone and the task finishes meanwhile
    last_seen = live[-1]["seq"]
    assert interrupt(client, tenant_a, task_id, "approve").status_code == 200
    wait_status(client, tenant_a, task_id, "succeeded")

    # Then replaying after the last event seen returns exactly the rest: nothing lost, nothing twice
    rest = events(client, tenant_a, task_id, after=last_seen)
    everything = events(client, tenant_a, task_id)
    assert missed + live + rest == everything
    assert [event["seq"] for event in everything] == list(range(1, len(everything) + 1))
    assert rest[-1]["type"] == "task.succeeded"

    # And the same replay as Server-Sent Events, resuming from Last-Event-ID
    response = client.get(
        f"/orchestrator/tasks/{task_id}/events",
        headers={**auth(tenant_a), "Accept": "text/event-stream", "Last-Event-ID": str(last_seen)},
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    frames = [frame for frame in response.text.split("\n\n") if frame.startswith("id: ")]
    assert [int(frame.split("\n")[0].removeprefix("id: ")) for frame in frames] == [e["seq"] for e in rest]
    first = dict(line.split(": ", 1) for line in frames[0].split("\n"))
    assert first["event"] == rest[0]["type"] and json.loads(first["data"]) == rest[0]
    assert "event: end" in response.text
    bad = client.get(f"/orchestrator/tasks/{task_id}/events", headers={**auth(tenant_a), "Last-Event-ID": "x"})
    assert bad.status_code == 422
