"""API keys: issued with roles and shown once, listed without secrets, rotated and revoked; admins only."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.integration.platform.conftest import Account


def issue(client: TestClient, account: Account, **body: Any) -> dict[str, Any]:
    response = client.post("/platform/keys", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def test_a_key_is_shown_once_and_listed_without_its_secret(client: TestClient, account: Account) -> None:
    # Given
    issued = issue(client, account, name="ci", roles=["member"])

    # When
    listed = client.get("/platform/keys", headers=account.headers).json()

    # Then
    assert issued["api_key"].startswith(f"stk.{account.tenant_id}.{issued['key_id']}.")
    assert [key["key_id"] for key in listed] == [issued["key_id"]]
    assert "api_key" not in listed[0]
    assert issued["api_key"].split(".")[-1] not in str(listed)
    me = client.get("/platform/users/me", headers={"X-Api-Key": issued["api_key"]}).json()
    assert (me["tenant_id"], me["roles"], me["key_id"]) == (account.tenant_id, ["member"], issued["key_id"])


def test_a_reader_key_may_read_but_not_write(client: TestClient, account: Account) -> None:
    reader = {"X-Api-Key": issue(client, account, name="dashboards", roles=["reader"])["api_key"]}

    assert client.get("/platform/agents", headers=reader).status_code == 200
    refused = client.post("/platform/agents", json={"name": "x"}, headers=reader)
    assert refused.status_code == 403


def test_only_an_admin_manages_keys(client: TestClient, account: Account) -> None:
    member = {"X-Api-Key": issue(client, account, name="app", roles=["member"])["api_key"]}

    assert client.get("/platform/keys", headers=member).status_code == 403
    assert client.post("/platform/keys", json={"name": "more"}, headers=member).status_code == 403


def test_a_rotated_key_keeps_its_id_name_and_roles_and_only_the_new_secret_works(
    client: TestClient, account: Account
) -> None:
    # Given
    old = issue(client, account, name="deploy bot", roles=["reader"])

    # When
    response = client.post(f"/platform/keys/{old['key_id']}/rotate", headers=account.headers)

    # Then
    assert response.status_code == 201, response.text
    new = response.json()
    assert (new["key_id"], new["name"], new["roles"]) == (old["key_id"], "deploy bot", ["reader"])
    assert new["api_key"] != old["api_key"]
    assert client.get("/platform/agents", headers={"X-Api-Key": old["api_key"]}).status_code == 401
    assert client.get("/platform/agents", headers={"X-Api-Key": new["api_key"]}).status_code == 200


def test_a_revoked_key_is_refused_and_cannot_be_rotated_back(client: TestClient, account: Account) -> None:
    key = issue(client, account, name="temp")

    response = client.delete(f"/platform/keys/{key['key_id']}", headers=account.headers)

    assert response.status_code == 204
    assert client.get("/platform/agents", headers={"X-Api-Key": key["api_key"]}).status_code == 401
    assert client.post(f"/platform/keys/{key['key_id']}/rotate", headers=account.headers).status_code == 404
    listed = client.get("/platform/keys", headers=account.headers).json()
    assert [k["revoked"] for k in listed] == [True]


def test_another_tenants_key_cannot_be_rotated_or_revoked(
    client: TestClient, account: Account, other_account: Account
) -> None:
    theirs = issue(client, other_account, name="theirs")

    assert client.post(f"/platform/keys/{theirs['key_id']}/rotate", headers=account.headers).status_code == 404
    assert client.delete(f"/platform/keys/{theirs['key_id']}", headers=account.headers).status_code == 404
    assert client.get("/platform/agents", headers={"X-Api-Key": theirs["api_key"]}).status_code == 200


def test_an_unknown_role_is_refused(client: TestClient, account: Account) -> None:
    response = client.post("/platform/keys", json={"roles": ["owner"]}, headers=account.headers)

    assert response.status_code == 422
