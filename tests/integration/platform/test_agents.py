"""Agents: CRUD, deploys that freeze immutable versions, the production alias, rollback, and tenancy."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from starlette.testclient import TestClient

from tests.integration.platform.conftest import Account, create_agent, deploy


def test_an_agent_is_created_read_listed_and_updated(client: TestClient, account: Account) -> None:
    # Given
    agent = create_agent(client, account.headers, limits={"max_output_tokens": 128, "timeout_s": 5})

    # When
    updated = client.put(
        f"/platform/agents/{agent['id']}",
        json={"name": "support triage v2", "system_prompt": "Be brief."},
        headers=account.headers,
    )

    # Then
    assert agent["limits"] == {"max_output_tokens": 128, "timeout_s": 5.0, "temperature": 0.0}
    assert agent["production_version"] is None
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["revision"]) == ("support triage v2", 2)
    fetched = client.get(f"/platform/agents/{agent['id']}", headers=account.headers).json()
    assert fetched["system_prompt"] == "Be brief."
    listed = client.get("/platform/agents", headers=account.headers).json()
    assert [a["id"] for a in listed["items"]] == [agent["id"]]


def test_agents_are_listed_page_by_page(client: TestClient, account: Account) -> None:
    created = {create_agent(client, account.headers, name=f"agent {n}")["id"] for n in range(3)}

    first = client.get("/platform/agents", params={"limit": 2}, headers=account.headers).json()
    second = client.get(
        "/platform/agents", params={"limit": 2, "cursor": first["next_cursor"]}, headers=account.headers
    ).json()

    assert len(first["items"]) == 2
    assert {a["id"] for a in first["items"] + second["items"]} == created


def test_a_deploy_freezes_the_draft_and_moves_the_production_alias(client: TestClient, account: Account) -> None:
    # Given version 1 deployed, then the draft changed and deployed again
    agent = create_agent(client, account.headers, system_prompt="first")
    first = deploy(client, account.headers, agent["id"])
    client.put(
        f"/platform/agents/{agent['id']}", json={"name": "triage", "system_prompt": "second"}, headers=account.headers
    )
    second = deploy(client, account.headers, agent["id"])

    # When
    versions = client.get(f"/platform/agents/{agent['id']}/versions", headers=account.headers).json()
    current = client.get(f"/platform/agents/{agent['id']}", headers=account.headers).json()

    # Then
    assert (first["version"], first["alias"], second["version"]) == (1, "production", 2)
    assert [(v["version"], v["config"]["system_prompt"]) for v in versions["items"]] == [(2, "second"), (1, "first")]
    assert (current["production_version"], current["latest_version"]) == (2, 2)


def test_rollback_points_the_alias_at_an_earlier_version(client: TestClient, account: Account) -> None:
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])
    deploy(client, account.headers, agent["id"])

    response = client.post(f"/platform/agents/{agent['id']}/rollback", json={"version": 1}, headers=account.headers)

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    current = client.get(f"/platform/agents/{agent['id']}", headers=account.headers).json()
    assert (current["production_version"], current["latest_version"]) == (1, 2)
    missing = client.post(f"/platform/agents/{agent['id']}/rollback", json={"version": 7}, headers=account.headers)
    assert missing.status_code == 404


def test_an_unknown_tool_is_refused_naming_the_registry(client: TestClient, account: Account) -> None:
    response = client.post("/platform/agents", json={"name": "x", "tools": ["shell"]}, headers=account.headers)

    assert response.status_code == 422
    assert "registered tools" in response.text


def test_deleting_an_agent_removes_it_with_its_versions_and_runs(client: TestClient, account: Account) -> None:
    # Given
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])
    run = client.post(f"/platform/agents/{agent['id']}/run", json={"input": "hello"}, headers=account.headers)
    assert run.status_code == 201, run.text

    # When
    deleted = client.delete(f"/platform/agents/{agent['id']}", headers=account.headers)

    # Then
    assert deleted.status_code == 204
    assert client.get(f"/platform/agents/{agent['id']}", headers=account.headers).status_code == 404
    assert client.get(f"/platform/agents/{agent['id']}/versions", headers=account.headers).status_code == 404
    assert client.get(f"/platform/runs/{run.json()['id']}", headers=account.headers).status_code == 404
    assert client.delete(f"/platform/agents/{agent['id']}", headers=account.headers).status_code == 404


def test_another_tenants_agent_is_not_found_by_any_route(
    client: TestClient, account: Account, other_account: Account
) -> None:
    # Given an agent of the other tenant, deployed
    theirs = create_agent(client, other_account.headers)
    deploy(client, other_account.headers, theirs["id"])
    base = f"/platform/agents/{theirs['id']}"
    h = account.headers

    # Then every route answers 404 to us, and the agent is untouched
    assert client.get(base, headers=h).status_code == 404
    assert client.put(base, json={"name": "mine now"}, headers=h).status_code == 404
    assert client.post(f"{base}/deploy", headers=h).status_code == 404
    assert client.get(f"{base}/versions", headers=h).status_code == 404
    assert client.post(f"{base}/rollback", json={"version": 1}, headers=h).status_code == 404
    assert client.post(f"{base}/run", json={"input": "hi"}, headers=h).status_code == 404
    assert client.get(f"{base}/runs", headers=h).status_code == 404
    assert client.delete(base, headers=h).status_code == 404
    assert client.get(base, headers=other_account.headers).json()["name"] == "support triage"


def test_parallel_deploys_never_share_a_version_number(client: TestClient, account: Account) -> None:
    # Given
    agent = create_agent(client, account.headers)
    url = f"/platform/agents/{agent['id']}/deploy"

    # When four deploys race
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: client.post(url, headers=account.headers), range(4)))

    # Then each one made its own version, or was told to retry
    made = [r.json()["version"] for r in responses if r.status_code == 201]
    assert {r.status_code for r in responses} <= {201, 409}
    assert len(made) == len(set(made)) >= 1
    listed = client.get(f"/platform/agents/{agent['id']}/versions", headers=account.headers).json()["items"]
    assert sorted(v["version"] for v in listed) == sorted(made)
    current = client.get(f"/platform/agents/{agent['id']}", headers=account.headers).json()
    assert (current["production_version"], current["latest_version"]) == (max(made), max(made))
