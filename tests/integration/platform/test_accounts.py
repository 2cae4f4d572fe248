"""Accounts: register, sign in, refresh with rotation and reuse detection, sign out, and who am I."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from starlette.testclient import TestClient

from tests.integration.platform.conftest import PASSWORD, Account, new_email, register


def login(client: TestClient, email: str, password: str = PASSWORD) -> tuple[int, dict[str, object], dict[str, str]]:
    response = client.post("/platform/auth/login", json={"email": email, "password": password})
    return response.status_code, response.json(), dict(response.headers)


def test_registering_creates_a_tenant_whose_first_user_is_an_admin(client: TestClient) -> None:
    # Given / When
    account = register(client, tenant_name="Initech")

    # Then
    me = client.get("/platform/users/me", headers=account.headers)
    assert me.status_code == 200
    assert me.json() | {"created_at": None} == {
        "user_id": account.user_id,
        "tenant_id": account.tenant_id,
        "email": account.email,
        "roles": ["admin"],
        "key_id": None,
        "created_at": None,
    }
    assert account.tenant_id.startswith("initech-")


def test_the_access_token_works_on_every_service(client: TestClient, account: Account) -> None:
    response = client.get("/orchestrator/tasks", headers=account.headers)

    assert response.status_code == 200, response.text


def test_an_email_that_has_an_account_cannot_register_again(client: TestClient, account: Account) -> None:
    response = client.post(
        "/platform/auth/register",
        json={"email": account.email.upper(), "password": PASSWORD, "tenant_name": "Another"},
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_a_weak_password_is_refused_naming_the_rule(client: TestClient) -> None:
    response = client.post(
        "/platform/auth/register", json={"email": new_email(), "password": "short", "tenant_name": "Acme"}
    )

    assert response.status_code == 422
    assert response.json()["rule"] == "min_length"
    assert "at least 12 characters" in response.json()["detail"]


def test_signing_in_returns_a_session_for_the_account(client: TestClient, account: Account) -> None:
    status, body, _ = login(client, account.email)

    assert status == 200
    assert body["tenant_id"] == account.tenant_id
    assert body["token_type"] == "bearer"
    me = client.get("/platform/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == account.email


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client: TestClient, account: Account) -> None:
    wrong_password = login(client, account.email, "not the password at all")
    unknown_email = login(client, new_email(), "not the password at all")

    assert wrong_password[0] == unknown_email[0] == 401
    assert wrong_password[1]["detail"] == unknown_email[1]["detail"] == "email or password is wrong"


def test_repeated_failures_back_off_then_lock_whether_or_not_the_account_exists(
    client: TestClient, account: Account
) -> None:
    # Given three failed sign-ins for an existing email and for an unknown one
    unknown = new_email()
    for email in (account.email, unknown):
        assert [login(client, email, "wrong password")[0] for _ in range(3)] == [401, 401, 401]

    # When they try again at once, even with the right password
    known_again = login(client, account.email)
    unknown_again = login(client, unknown)

    # Then both must wait, with the same answer
    for status, body, headers in (known_again, unknown_again):
        assert status == 429
        assert headers["retry-after"] == "30"
        assert body["detail"] == "too many failed sign-ins for this email; try again in 30 s"


def test_parallel_guesses_cannot_slip_past_the_backoff(client: TestClient, account: Account) -> None:
    # When eight wrong guesses arrive at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: login(client, account.email, "a wrong guess")[0], range(8)))

    # Then at most the three free attempts were checked; every other one was told to wait
    assert statuses.count(401) <= 3
    assert statuses.count(401) + statuses.count(429) == 8


def test_a_refresh_rotates_the_refresh_token(client: TestClient, account: Account) -> None:
    # When
    first = client.post("/platform/auth/refresh", json={"refresh_token": account.refresh_token})

    # Then a new pair comes back, and the new refresh token works once more
    assert first.status_code == 200, first.text
    assert first.json()["refresh_token"] != account.refresh_token
    second = client.post("/platform/auth/refresh", json={"refresh_token": first.json()["refresh_token"]})
    assert second.status_code == 200
    me = client.get("/platform/users/me", headers={"Authorization": f"Bearer {second.json()['access_token']}"})
    assert me.json()["user_id"] == account.user_id


def test_reusing_a_spent_refresh_token_revokes_the_whole_sign_in(client: TestClient, account: Account) -> None:
    # Given the legitimate client refreshed once
    rotated = client.post("/platform/auth/refresh", json={"refresh_token": account.refresh_token}).json()

    # When the spent token is presented again (a stolen copy)
    replay = client.post("/platform/auth/refresh", json={"refresh_token": account.refresh_token})

    # Then it is refused, and so is the token the legitimate client holds now
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    after = client.post("/platform/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401


def test_a_concurrent_refresh_within_the_grace_is_refused_without_signing_anyone_out(
    client: TestClient, account: Account
) -> None:
    # Given the platform's default grace for a spent token presented again at once
    from platform_.accounts import AccountService
    from platform_.app import app
    from platform_.settings import get_platform_settings
    from platform_.wiring import account_service, get_identity, get_passwords, get_repository

    settings = get_platform_settings().model_copy(update={"platform_refresh_reuse_grace_s": 5.0})
    service = AccountService(settings, get_repository(), get_passwords(), get_identity())
    app.dependency_overrides[account_service] = lambda: service
    try:
        # When two refreshes of the same token arrive together
        first = client.post("/platform/auth/refresh", json={"refresh_token": account.refresh_token})
        second = client.post("/platform/auth/refresh", json={"refresh_token": account.refresh_token})
        after = client.post("/platform/auth/refresh", json={"refresh_token": first.json()["refresh_token"]})
    finally:
        app.dependency_overrides.pop(account_service, None)

    # Then one wins, the other is refused, and the winner's new token still works
    assert (first.status_code, second.status_code, after.status_code) == (200, 401, 200)
    assert "just used" in second.json()["detail"]


def test_a_forged_refresh_token_is_refused(client: TestClient, account: Account) -> None:
    prefix, tenant, family, _ = account.refresh_token.split(".")
    forged = f"{prefix}.{tenant}.{family}.{'A' * 43}"

    assert client.post("/platform/auth/refresh", json={"refresh_token": forged}).status_code == 401
    still_valid = client.post("/platform/auth/refresh", json={"refresh_token": account.refresh_token})
    assert still_valid.status_code == 200


def test_signing_out_ends_the_sign_in(client: TestClient, account: Account) -> None:
    response = client.post(
        "/platform/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.headers
    )

    assert response.status_code == 204
    refused = client.post("/platform/auth/refresh", json={"refresh_token": account.refresh_token})
    assert refused.status_code == 401


def test_nobody_can_sign_out_another_accounts_session(
    client: TestClient, account: Account, other_account: Account
) -> None:
    response = client.post(
        "/platform/auth/logout", json={"refresh_token": account.refresh_token}, headers=other_account.headers
    )

    assert response.status_code == 404
    assert client.post("/platform/auth/refresh", json={"refresh_token": account.refresh_token}).status_code == 200


def test_who_am_i_needs_credentials(client: TestClient) -> None:
    response = client.get("/platform/users/me")

    assert response.status_code == 401
