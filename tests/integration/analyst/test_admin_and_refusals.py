"""Who may manage databases, and requests that used to fail with a 500: each a regression test (issue 9)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.analyst.conftest import ask, connect_sample, open_session
from tests.integration.conftest import TenantKey, auth


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_members_may_not_upload_connect_or_delete_databases_but_may_use_them(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, member_a: TenantKey
) -> None:
    # Given a database an admin of tenant A connected
    database = connect_sample(client, tenant_a)
    database_id = database["database_id"]

    # When a member of the same tenant tries to manage databases, Then each is a 403 naming the role
    for method, path, payload in [
        ("POST", "/analyst/databases/uploads", {"filename": "shop.sqlite", "kind": "sqlite"}),
        ("POST", "/analyst/databases/connect", {"kind": "sample"}),
        ("DELETE", f"/analyst/databases/{database_id}", None),
    ]:
        refused = _problem(client.request(method, path, json=payload, headers=auth(member_a)), 403)
        assert refused["required_role"] == "admin", (path, refused)

    # And nothing changed: still one database, and the member can read it, open a session and ask
    listed = client.get("/analyst/databases", headers=auth(member_a)).json()["items"]
    assert [d["database_id"] for d in listed] == [database_id]
    session_id = open_session(client, member_a, database_id)
    assert ask(client, member_a, session_id, question="How many albums are there?").json()["rows"] == [[347]]

    # When the admin does the same, Then it works
    ticket = client.post(
        "/analyst/databases/uploads", json={"filename": "shop.sqlite", "kind": "sqlite"}, headers=auth(tenant_a)
    )
    assert ticket.status_code == 201, ticket.text
    assert client.delete(f"/analyst/databases/{database_id}", headers=auth(tenant_a)).status_code == 204
    assert client.get("/analyst/databases", headers=auth(member_a)).json()["items"] == []


def test_visualizing_an_empty_query_id_is_refused_as_invalid(client: TestClient, tenant_a: TenantKey) -> None:
    database = connect_sample(client, tenant_a)
    session_id = open_session(client, tenant_a, database["database_id"])
    # Given an empty query id (DynamoDB refuses an empty sort key: this was a 500)
    response = client.post(f"/analyst/sessions/{session_id}/visualize", json={"query_id": ""}, headers=auth(tenant_a))
    # Then it is the caller's mistake, said as such
    problem = _problem(response, 422)
    assert "query_id" in str(problem["detail"])


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
@pytest.mark.parametrize("s3_key", ["../x.sqlite", "analyst/../../tenant-b/analyst/uploads/x.sqlite"])
def test_connecting_a_file_outside_the_tenants_prefix_is_refused_on_s3_key(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, kind: str, s3_key: str
) -> None:
    # Given a key that climbs out of the tenant's prefix (this was a 500 from the blob key)
    response = client.post(
        "/analyst/databases/connect", json={"kind": kind, "name": "x", "s3_key": s3_key}, headers=auth(tenant_a)
    )
    # Then 422 on the field the caller sent, and nothing was registered
    problem = _problem(response, 422)
    assert problem["field"] == "s3_key"
    assert client.get("/analyst/databases", headers=auth(tenant_a)).json()["items"] == []
