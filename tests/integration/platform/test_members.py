"""Members: an admin invites an email with roles, the invitee joins signed in, roles change, members leave."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.integration.platform.conftest import PASSWORD, Account, new_email


def invite(client: TestClient, admin: Account, email: str, roles: list[str] | None = None) -> dict[str, Any]:
    response = client.post(
        "/platform/invitations", json={"email": email, "roles": roles or ["member"]}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    invitation: dict[str, Any] = response.json()
    return invitation


def accept(client: TestClient, token: str, password: str = PASSWORD) -> Any:
    return client.post("/platform/invitations/accept", json={"token": token, "password": password})


def test_an_invitee_joins_the_tenant_with_the_invited_roles(client: TestClient, account: Account) -> None:
    # Given
    email = new_email()
    invitation = invite(client, account, email, ["reader"])

    # When
    joined = accept(client, invitation["token"])

    # Then
    assert joined.status_code == 201, joined.text
    assert (joined.json()["tenant_id"], joined.json()["roles"]) == (account.tenant_id, ["reader"])
    reader = {"Authorization": f"Bearer {joined.json()['access_token']}"}
    assert client.get("/platform/agents", headers=reader).status_code == 200
    assert client.post("/platform/agents", json={"name": "x"}, headers=reader).status_code == 403
    members = client.get("/platform/users", headers=account.headers).json()
    assert [(m["email"], m["roles"]) for m in members] == [(account.email, ["admin"]), (email, ["reader"])]
    assert client.get("/platform/invitations", headers=account.headers).json() == []


def test_an_invitation_works_once_and_a_forged_token_never(client: TestClient, account: Account) -> None:
    invitation = invite(client, account, new_email())
    prefix, tenant, invitation_id, _ = invitation["token"].split(".")

    assert accept(client, f"{prefix}.{tenant}.{invitation_id}.{'A' * 43}").status_code == 404
    assert accept(client, invitation["token"]).status_code == 201
    assert accept(client, invitation["token"]).status_code == 404


def test_an_invitation_for_an_email_that_has_an_account_is_refused_at_acceptance(
    client: TestClient, account: Account, other_account: Account
) -> None:
    invitation = invite(client, account, other_account.email)

    response = accept(client, invitation["token"])

    assert response.status_code == 409
    listed = client.get("/platform/invitations", headers=account.headers).json()
    assert [i["id"] for i in listed] == [invitation["id"]]
    assert "token" not in listed[0]


def test_a_withdrawn_invitation_cannot_be_accepted(client: TestClient, account: Account) -> None:
    invitation = invite(client, account, new_email())

    withdrawn = client.delete(f"/platform/invitations/{invitation['id']}", headers=account.headers)

    assert withdrawn.status_code == 204
    assert accept(client, invitation["token"]).status_code == 404


def test_roles_change_at_the_next_refresh_and_a_removed_member_is_signed_out(
    client: TestClient, account: Account
) -> None:
    # Given a member who joined
    joined = accept(client, invite(client, account, new_email())["token"]).json()
    user_id = joined["user_id"]

    # When the admin makes them an admin, then removes them
    promoted = client.put(f"/platform/users/{user_id}/roles", json={"roles": ["admin"]}, headers=account.headers)
    refreshed = client.post("/platform/auth/refresh", json={"refresh_token": joined["refresh_token"]}).json()
    removed = client.delete(f"/platform/users/{user_id}", headers=account.headers)

    # Then
    assert promoted.status_code == 200
    assert refreshed["roles"] == ["admin"]
    assert removed.status_code == 204
    after = client.post("/platform/auth/refresh", json={"refresh_token": refreshed["refresh_token"]})
    assert after.status_code == 401
    assert [m["user_id"] for m in client.get("/platform/users", headers=account.headers).json()] == [account.user_id]


def test_an_admin_cannot_change_or_remove_themself(client: TestClient, account: Account) -> None:
    own = f"/platform/users/{account.user_id}"

    assert client.put(f"{own}/roles", json={"roles": ["reader"]}, headers=account.headers).status_code == 409
    assert client.delete(own, headers=account.headers).status_code == 409


def test_another_tenants_members_and_invitations_are_not_found(
    client: TestClient, account: Account, other_account: Account
) -> None:
    theirs = invite(client, other_account, new_email())
    h = account.headers

    assert (
        client.put(f"/platform/users/{other_account.user_id}/roles", json={"roles": ["reader"]}, headers=h).status_code
        == 404
    )
    assert client.delete(f"/platform/users/{other_account.user_id}", headers=h).status_code == 404
    assert client.delete(f"/platform/invitations/{theirs['id']}", headers=h).status_code == 404
    assert accept(client, theirs["token"]).status_code == 201


def test_a_weak_password_on_acceptance_names_the_rule_and_keeps_the_invitation(
    client: TestClient, account: Account
) -> None:
    invitation = invite(client, account, new_email())

    weak = accept(client, invitation["token"], "short")

    assert (weak.status_code, weak.json()["rule"]) == (422, "min_length")
    assert accept(client, invitation["token"]).status_code == 201
