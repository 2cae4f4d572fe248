"""The admin command makes the first tenant of a stack, whose admin can then sign in and manage keys."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from platform_.admin import main
from tests.integration.platform.conftest import PASSWORD, new_email


def test_create_tenant_makes_an_admin_who_signs_in_and_an_admin_key(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given
    email = new_email()
    monkeypatch.setenv("STRATUS_ADMIN_PASSWORD", PASSWORD)

    # When
    status = main(["create-tenant", "--name", "Initech", "--email", email, "--api-key"])

    # Then
    assert status == 0
    printed = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert printed["tenant"].startswith("initech-")
    signed_in = client.post("/platform/auth/login", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200
    assert signed_in.json()["tenant_id"] == printed["tenant"]
    api_key = printed["api"].split()[1]
    keys = client.get("/platform/keys", headers={"X-Api-Key": api_key})
    assert keys.status_code == 200
    assert keys.json()[0]["roles"] == ["admin"]


def test_a_taken_email_or_weak_password_is_an_error_and_nothing_is_made(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    email = new_email()
    monkeypatch.setenv("STRATUS_ADMIN_PASSWORD", "short")

    assert main(["create-tenant", "--name", "Initech", "--email", email]) == 2
    assert "weak password" in capsys.readouterr().err
    monkeypatch.setenv("STRATUS_ADMIN_PASSWORD", PASSWORD)
    assert main(["create-tenant", "--name", "Initech", "--email", email]) == 0
    assert main(["create-tenant", "--name", "Other", "--email", email]) == 2
    assert "already exists" in capsys.readouterr().err
