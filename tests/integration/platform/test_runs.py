"""Runs: synchronous calls of the deployed version, stored with version, input, output, tokens, cost, latency."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.ai import ChatChunk, ChatRequest, ChatResult, Usage
from stratus.ai.chat import MeteredChatModel
from stratus.ai.types import Provider
from stratus.errors import UpstreamFailed
from stratus.local.embedded import EmbeddedAws
from stratus.local.lambda_dispatch import invoke_handler
from tests.integration.platform.conftest import Account, create_agent, deploy


class _ScriptedModel:
    """A model that answers after ``delay_s``, or fails as a provider does after its retries."""

    model_id = "anthropic.claude-3-5-haiku-20241022-v1:0"

    def __init__(self, delay_s: float = 0.0, fail: bool = False) -> None:
        self._delay_s = delay_s
        self._fail = fail

    @property
    def provider(self) -> Provider:
        return "bedrock"

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        result = self.generate(request)
        yield ChatChunk(text=result.text, usage=result.usage)

    def generate(self, request: ChatRequest) -> ChatResult:
        time.sleep(self._delay_s)
        if self._fail:
            raise UpstreamFailed("the model provider answered with an error")
        usage = Usage(
            input_tokens=1000,
            output_tokens=500,
            cost_usd=0.0028,
            model=self.model_id,
            provider="bedrock",
            offline=False,
            latency_ms=self._delay_s * 1000,
        )
        return ChatResult(text=f"echo: {request.question}", usage=usage)


@pytest.fixture
def scripted_model() -> Iterator[list[_ScriptedModel]]:
    """Runs use the model put in the returned list (through the app's dependency override), metered as stratus.ai's."""
    from platform_.app import app
    from platform_.repository import PlatformRepository
    from platform_.runs import RunService
    from platform_.settings import get_platform_settings
    from platform_.wiring import get_usage_ledger, run_service

    models: list[_ScriptedModel] = []
    settings = get_platform_settings()
    service = RunService(
        settings, PlatformRepository(settings), lambda _: MeteredChatModel(models[0]), get_usage_ledger()
    )
    app.dependency_overrides[run_service] = lambda: service
    yield models
    app.dependency_overrides.pop(run_service, None)


def test_a_run_uses_the_production_version_and_stores_what_it_did(client: TestClient, account: Account) -> None:
    # Given an agent deployed as version 1
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])

    # When
    response = client.post(f"/platform/agents/{agent['id']}/run", json={"input": "hello"}, headers=account.headers)

    # Then the offline model answered, labelled offline, and the run is stored
    assert response.status_code == 201, response.text
    run = response.json()
    assert (run["status"], run["version"], run["input"]) == ("succeeded", 1, "hello")
    assert run["offline"] is True
    assert run["model"] == "stratus-offline-extractive"
    assert run["output"]
    assert run["input_tokens"] > 0
    assert run["latency_ms"] > 0
    assert client.get(f"/platform/runs/{run['id']}", headers=account.headers).json() == run
    listed = client.get(f"/platform/agents/{agent['id']}/runs", headers=account.headers).json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]


def test_an_agent_never_deployed_cannot_run(client: TestClient, account: Account) -> None:
    agent = create_agent(client, account.headers)

    response = client.post(f"/platform/agents/{agent['id']}/run", json={"input": "hi"}, headers=account.headers)

    assert response.status_code == 409
    assert "deploy it first" in response.json()["detail"]


def test_a_run_after_rollback_uses_the_version_the_alias_names(client: TestClient, account: Account) -> None:
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])
    deploy(client, account.headers, agent["id"])
    client.post(f"/platform/agents/{agent['id']}/rollback", json={"version": 1}, headers=account.headers)

    run = client.post(f"/platform/agents/{agent['id']}/run", json={"input": "hi"}, headers=account.headers).json()
    pinned = client.post(
        f"/platform/agents/{agent['id']}/run", json={"input": "hi", "version": 2}, headers=account.headers
    ).json()

    assert (run["version"], pinned["version"]) == (1, 2)


def test_a_run_records_tokens_and_cost_of_a_priced_model(
    client: TestClient, account: Account, scripted_model: list[_ScriptedModel]
) -> None:
    scripted_model.append(_ScriptedModel())
    agent = create_agent(client, account.headers, model="anthropic.claude-3-5-haiku-20241022-v1:0")
    deploy(client, account.headers, agent["id"])

    run = client.post(f"/platform/agents/{agent['id']}/run", json={"input": "hi"}, headers=account.headers).json()

    assert (run["output"], run["offline"]) == ("echo: hi", False)
    assert (run["input_tokens"], run["output_tokens"], run["cost_usd"]) == (1000, 500, 0.0028)


def test_a_run_past_its_timeout_fails_with_503_and_is_stored_as_failed(
    client: TestClient, account: Account, scripted_model: list[_ScriptedModel]
) -> None:
    # Given a model slower than the agent's limit
    scripted_model.append(_ScriptedModel(delay_s=1.5))
    agent = create_agent(client, account.headers, limits={"timeout_s": 0.3})
    deploy(client, account.headers, agent["id"])

    # When
    response = client.post(f"/platform/agents/{agent['id']}/run", json={"input": "hi"}, headers=account.headers)

    # Then
    assert response.status_code == 503
    assert response.json()["detail"] == "the model did not answer within 0.3 s"
    stored = client.get(f"/platform/runs/{response.json()['run_id']}", headers=account.headers).json()
    assert (stored["status"], stored["output"]) == ("failed", None)
    assert stored["error"] == "the model did not answer within 0.3 s"
    assert stored["model"] == "anthropic.claude-3-5-haiku-20241022-v1:0"


def test_a_provider_failure_is_reported_with_the_failed_runs_id(
    client: TestClient, account: Account, scripted_model: list[_ScriptedModel]
) -> None:
    scripted_model.append(_ScriptedModel(fail=True))
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])

    response = client.post(f"/platform/agents/{agent['id']}/run", json={"input": "hi"}, headers=account.headers)

    assert response.status_code == 502
    stored = client.get(f"/platform/runs/{response.json()['run_id']}", headers=account.headers).json()
    assert stored["status"] == "failed"


def test_another_tenants_run_is_not_found(client: TestClient, account: Account, other_account: Account) -> None:
    theirs = create_agent(client, other_account.headers)
    deploy(client, other_account.headers, theirs["id"])
    run = client.post(f"/platform/agents/{theirs['id']}/run", json={"input": "x"}, headers=other_account.headers)

    response = client.get(f"/platform/runs/{run.json()['id']}", headers=account.headers)

    assert response.status_code == 404


def test_runs_are_listed_page_by_page_and_a_cursor_of_another_list_is_refused(
    client: TestClient, account: Account
) -> None:
    # Given three runs of an agent with two versions
    agent = create_agent(client, account.headers)
    base = f"/platform/agents/{agent['id']}"
    deploy(client, account.headers, agent["id"])
    deploy(client, account.headers, agent["id"])
    made = [client.post(f"{base}/run", json={"input": f"q{n}"}, headers=account.headers).json()["id"] for n in range(3)]

    # When
    first = client.get(f"{base}/runs", params={"limit": 2}, headers=account.headers).json()
    second = client.get(f"{base}/runs", params={"cursor": first["next_cursor"]}, headers=account.headers).json()
    versions_cursor = client.get(f"{base}/versions", params={"limit": 1}, headers=account.headers).json()["next_cursor"]
    crossed = client.get(f"{base}/runs", params={"cursor": versions_cursor}, headers=account.headers)

    # Then newest first, nothing twice, and the versions cursor is no runs cursor
    assert [r["id"] for r in first["items"] + second["items"]] == made[::-1]
    assert crossed.status_code == 422


def test_an_asynchronous_run_is_queued_then_executed_by_the_run_state_machine(
    client: TestClient, account: Account
) -> None:
    # Given
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])

    # When
    response = client.post(
        f"/platform/agents/{agent['id']}/run", json={"input": "hello", "mode": "async"}, headers=account.headers
    )

    # Then it is accepted as queued, and the execution completes it
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    assert response.headers["location"] == f"/platform/runs/{response.json()['id']}"
    deadline = time.monotonic() + 30
    run = response.json()
    while run["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
        run = client.get(f"/platform/runs/{run['id']}", headers=account.headers).json()
    assert (run["status"], run["offline"], run["version"]) == ("succeeded", True, 1)
    assert run["output"]
    usage = client.get("/platform/usage", headers=account.headers).json()
    assert usage["calls"] == 1


def test_the_run_task_executes_a_queued_run_once(client: TestClient, account: Account, aws: EmbeddedAws) -> None:
    # Given a run that finished asynchronously
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])
    queued = client.post(
        f"/platform/agents/{agent['id']}/run", json={"input": "hello", "mode": "async"}, headers=account.headers
    ).json()
    deadline = time.monotonic() + 30
    while client.get(f"/platform/runs/{queued['id']}", headers=account.headers).json()["status"] == "queued":
        assert time.monotonic() < deadline, "the run stayed queued"
        time.sleep(0.1)

    # When the task runs again (a retried execution)
    again = invoke_handler(
        aws.template.handler("PlatformRunFunction"),
        {"tenant_id": account.tenant_id, "run_id": queued["id"]},
        function_name=aws.physical_name("PlatformRunFunction"),
        timeout_s=60,
    )

    # Then it finds the run done and meters nothing more
    assert again == {"run_id": queued["id"], "status": "succeeded"}
    assert client.get("/platform/usage", headers=account.headers).json()["calls"] == 1


def _events(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_a_streamed_run_sends_the_text_in_chunks_then_the_stored_run(client: TestClient, account: Account) -> None:
    # Given
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])

    # When
    response = client.post(
        f"/platform/agents/{agent['id']}/run",
        json={"input": "hello"},
        headers={**account.headers, "Accept": "text/event-stream"},
    )

    # Then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    chunks = [data["text"] for name, data in events if name == "chunk"]
    (name, run) = events[-1]
    assert name == "run"
    assert len(chunks) > 1
    assert "".join(chunks) == run["output"]
    assert (run["status"], run["offline"]) == ("succeeded", True)
    assert client.get(f"/platform/runs/{run['id']}", headers=account.headers).json()["output"] == run["output"]
    assert client.get("/platform/usage", headers=account.headers).json()["calls"] == 1


def test_a_streamed_run_of_an_undeployed_agent_is_a_plain_409(client: TestClient, account: Account) -> None:
    agent = create_agent(client, account.headers)

    response = client.post(
        f"/platform/agents/{agent['id']}/run",
        json={"input": "hello"},
        headers={**account.headers, "Accept": "text/event-stream"},
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_a_streamed_run_whose_model_fails_ends_with_the_failed_run(
    client: TestClient, account: Account, scripted_model: list[_ScriptedModel]
) -> None:
    scripted_model.append(_ScriptedModel(fail=True))
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])

    response = client.post(
        f"/platform/agents/{agent['id']}/run",
        json={"input": "hello"},
        headers={**account.headers, "Accept": "text/event-stream"},
    )

    [(name, run)] = _events(response.text)
    assert (name, run["status"], run["error"]) == ("run", "failed", "the model provider answered with an error")
    assert client.get(f"/platform/runs/{run['id']}", headers=account.headers).json()["status"] == "failed"


def test_a_runs_model_call_is_counted_once_in_sync_and_streamed_runs(
    client: TestClient, account: Account, scripted_model: list[_ScriptedModel]
) -> None:
    # Given
    scripted_model.append(_ScriptedModel())
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])
    url = f"/platform/agents/{agent['id']}/run"

    # When
    assert client.post(url, json={"input": "hi"}, headers=account.headers).status_code == 201
    streamed = client.post(url, json={"input": "hi"}, headers={**account.headers, "Accept": "text/event-stream"})

    # Then
    assert _events(streamed.text)[-1][1]["status"] == "succeeded"
    usage = client.get("/platform/usage", headers=account.headers).json()
    assert (usage["calls"], usage["input_tokens"], usage["cost_usd"]) == (2, 2000, "0.005600")
