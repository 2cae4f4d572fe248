"""Every route refuses writes from a reader; management routes need an admin. Both answer 403 problem+json."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from stratus.identity import get_identity_service
from stratus.local.embedded import EmbeddedAws
from stratus.web import AdminPrincipal, CurrentPrincipal, create_app

ROLES = {"root": ("admin",), "bob": ("member",), "legacy": (), "eve": ("reader",)}


@pytest.fixture(scope="module")
def api_keys() -> Iterator[dict[str, dict[str, str]]]:
    """The headers of each user: a real API key issued with that user's roles."""
    with EmbeddedAws():
        identity = get_identity_service()
        keys = {user: identity.issue_api_key("acme", user, roles=roles)[1] for user, roles in ROLES.items()}
        yield {user: {"X-Api-Key": key} for user, key in keys.items()}


@pytest.fixture
def client(api_keys: dict[str, dict[str, str]]) -> Iterator[TestClient]:
    app = create_app("widgets")

    @app.get("/widgets/items")
    def list_items(principal: CurrentPrincipal) -> dict[str, str]:
        return {"user": principal.user_id}

    @app.post("/widgets/items", status_code=201)
    def create_item(principal: CurrentPrincipal) -> dict[str, str]:
        return {"user": principal.user_id}

    @app.delete("/widgets/items/{item_id}", status_code=204)
    def delete_item(item_id: str, principal: CurrentPrincipal) -> None:
        return None

    @app.post("/widgets/settings", status_code=201)
    def change_settings(principal: AdminPrincipal) -> dict[str, str]:
        return {"user": principal.user_id}

    @app.get("/widgets/settings")
    def read_settings(principal: AdminPrincipal) -> dict[str, str]:
        return {"user": principal.user_id}

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("user", list(ROLES))
def test_everyone_may_read(client: TestClient, api_keys: dict[str, dict[str, str]], user: str) -> None:
    assert client.get("/widgets/items", headers=api_keys[user]).json() == {"user": user}


@pytest.mark.parametrize(("method", "path"), [("POST", "/widgets/items"), ("DELETE", "/widgets/items/1")])
def test_a_reader_may_not_write_on_any_route(
    client: TestClient, api_keys: dict[str, dict[str, str]], method: str, path: str
) -> None:
    response = client.request(method, path, headers=api_keys["eve"])

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["required_role"] == "member"


@pytest.mark.parametrize("user", ["root", "bob", "legacy"])
def test_admins_and_members_may_write(client: TestClient, api_keys: dict[str, dict[str, str]], user: str) -> None:
    assert client.post("/widgets/items", headers=api_keys[user]).status_code == 201
    assert client.delete("/widgets/items/1", headers=api_keys[user]).status_code == 204


@pytest.mark.parametrize("user", ["bob", "legacy", "eve"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_management_routes_refuse_everyone_but_an_admin(
    client: TestClient, api_keys: dict[str, dict[str, str]], user: str, method: str
) -> None:
    response = client.request(method, "/widgets/settings", headers=api_keys[user])

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    # A reader's write is refused first, by the read-only rule
    assert response.json()["required_role"] == ("member" if (user, method) == ("eve", "POST") else "admin")


def test_an_admin_may_use_management_routes(client: TestClient, api_keys: dict[str, dict[str, str]]) -> None:
    assert client.post("/widgets/settings", headers=api_keys["root"]).json() == {"user": "root"}
    assert client.get("/widgets/settings", headers=api_keys["root"]).json() == {"user": "root"}
