"""A multi-agent task end to end on the embedded AWS: the real ASL executed by moto, the real handlers."""

from __future__ import annotations

from starlette.testclient import TestClient

from stratus.agents import Decision, Final, Handoff, Turn, override_behaviour
from stratus.local.embedded import EmbeddedAws
from tests.integration.conftest import TenantKey, auth
from tests.integration.orchestrator.conftest import create_task, events, execution_status, types, wait_status


def test_three_agent_task_runs_to_a_cited_result_with_a_full_audit_trail(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey
) -> None:
    # Given a goal with Python code and an input document, for the default team
    created = create_task(client, tenant_a)
    assert created["status"] in ("queued", "running")
    assert created["agents"] == ["research", "code_review", "writing"]

    # When the execution runs to the end
    task = wait_status(client, tenant_a, created["task_id"], "succeeded")

    # Then the result is composed from the research notes, cites the input, and reports the real ruff findings
    text = task["result"]["text"]
    assert "within two minutes" in text and "[1] pipeline.md" in text
    assert "F821 Undefined name `previous_version`" in text and "F401" in text
    assert task["result"]["offline"] is True and task["usage"]["offline"] is True
    assert task["usage"]["model_calls"] >= 2 and task["usage"]["input_tokens"] > 0
    assert task["execution_arn"].endswith(created["task_id"])
    assert {output["agent"] for output in task["outputs"]} == {"research", "code_review", "writing"}
    assert all(output["status"] == "succeeded" for output in task["outputs"])
    assert execution_status(aws, task["execution_arn"], lambda status: status != "RUNNING") == "SUCCEEDED"

    # And each agent reports its state, steps, last output and usage
    agents = client.get(f"/orchestrator/tasks/{created['task_id']}/agents", headers=auth(tenant_a)).json()
    by_name = {agent["name"]: agent for agent in agents}
    assert {name: agent["state"] for name, agent in by_name.items()} == {
        "research": "done",
        "code_review": "done",
        "writing": "done",
    }
    assert by_name["code_review"]["steps"] == 1 and "F821" in by_name["code_review"]["last_output"]
    assert by_name["research"]["usage"]["model_calls"] >= 1 and by_name["research"]["usage"]["offline"] is True

    # And the audit trail is gapless, ordered, and a tree: every event's parent came before it
    trail = events(client, tenant_a, created["task_id"])
    assert [event["seq"] for event in trail] == list(range(1, len(trail) + 1))
    assert all(event["parent"] is None or event["parent"] < event["seq"] for event in trail)
    assert types(trail)[:3] == ["task.created", "task.started", "plan.created"]
    assert types(trail)[-2:] == ["critique", "task.succeeded"]
    tool_calls = [event for event in trail if event["type"] == "agent.tool_call"]
    assert {event["data"]["tool"] for event in tool_calls} >= {"check_python", "read_inputs"}
    model_calls = [event for event in trail if event["type"] == "agent.model_call"]
    assert all(
        call["data"]["offline"] and call["data"]["model"] == "stratus-offline-extractive" for call in model_calls
    )
    started = {event["seq"]: event for event in trail if event["type"] == "step.started"}
    assert all(
        call["parent"] in started and call["step_id"] == started[call["parent"]]["step_id"] for call in model_calls
    )


def test_research_reads_the_tenants_indexed_documents_and_never_another_tenants(
    client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey
) -> None:
    # Given tenant A has a document in the docqa index (as docqa ingestion writes it)
    from stratus.ai import get_embedder
    from stratus.search import IndexedChunk, get_search_index

    text = "Feature flags are evaluated at the edge. A flag change reaches every region within 90 seconds."
    get_search_index().upsert(
        [
            IndexedChunk(
                chunk_id="doc-flags-0",
                tenant_id=tenant_a.tenant_id,
                document_id="doc-flags",
                text=text,
                embedding=get_embedder().embed([text])[0],
                metadata={"filename": "flags.md"},
            )
        ]
    )
    goal = "How quickly does a feature flag change reach every region?"

    # When both tenants ask the same question with no inputs
    task_a = create_task(client, tenant_a, goal=goal, inputs=[], agents=["research", "writing"])
    task_b = create_task(client, tenant_b, goal=goal, inputs=[], agents=["research", "writing"])
    done_a = wait_status(client, tenant_a, task_a["task_id"], "succeeded")
    done_b = wait_status(client, tenant_b, task_b["task_id"], "succeeded")

    # Then A's answer quotes its document, and B's research found nothing to cite
    assert "within 90 seconds" in done_a["result"]["text"] and "flags.md" in done_a["result"]["text"]
    assert "90 seconds" not in done_b["result"]["text"]
    assert "found no passages" in done_b["result"]["text"]


class HandsOffOnce:
    """A writer that first hands the work to research, then writes once the research is back."""

    calls: int = 0

    def decide(self, turn: Turn) -> Decision:
        HandsOffOnce.calls += 1
        if HandsOffOnce.calls == 1:
            return Handoff("research", "How long does a rollback take?")
        notes = [note["text"] for step in turn.brief.research for note in step.get("notes", [])]
        return Final("Rollback window: " + " ".join(notes))

    def conclude(self, turn: Turn, reason: str) -> Final:
        return Final("")


def test_a_handoff_runs_the_other_agent_next_then_gives_the_work_back(client: TestClient, tenant_a: TenantKey) -> None:
    # Given a writer that hands off to research on its first turn
    HandsOffOnce.calls = 0
    restore = override_behaviour("writing", HandsOffOnce)
    try:
        # When a research + writing task runs
        created = create_task(client, tenant_a, goal="What is the canary share?", agents=["research", "writing"])
        task = wait_status(client, tenant_a, created["task_id"], "succeeded")
    finally:
        restore()

    # Then research ran again on the handoff's question, and the writer finished with its notes
    steps = [(o["step_id"], o["status"]) for o in task["outputs"]]
    assert steps[:4] == [
        ("r1-s1-research", "succeeded"),
        ("r1-s2-writing", "succeeded"),
        ("r1-s3-research", "succeeded"),
        ("r1-s4-writing", "succeeded"),
    ]
    assert next(o for o in task["outputs"] if o["step_id"] == "r1-s3-research")["question"] == (
        "How long does a rollback take?"
    )
    assert "within two minutes" in task["result"]["text"]
    trail = events(client, tenant_a, created["task_id"])
    handoff = next(e for e in trail if e["type"] == "agent.handoff")
    assert handoff["data"] == {"turn": 1, "to": "research", "note": "How long does a rollback take?", "allowed": True}
    revised = next(e for e in trail if e["type"] == "plan.revised")
    assert revised["data"]["reason"] == "handoff" and revised["data"]["steps"] == ["r1-s3-research", "r1-s4-writing"]
