"""The app factory's error model, request ids, body limit, auth dependency and pagination."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from stratus.config import reset_settings
from stratus.errors import Conflict, NotFound, UpstreamUnavailable
from stratus.identity import Principal
from stratus.web import CurrentPrincipal, Page, create_app, current_principal, decode_cursor, encode_cursor


class Widget(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(ge=1)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    reset_settings()
    app = create_app("widgets", health_checks={"always": lambda: None})

    @app.post("/widgets/items", status_code=201)
    def create(widget: Widget, principal: CurrentPrincipal) -> dict[str, str]:
        if widget.name == "taken":
            raise Conflict("widget exists", current_state="active")
        if widget.name == "slow":
            raise UpstreamUnavailable("model provider timed out", retry_after_s=7)
        return {"tenant": principal.tenant_id, "name": widget.name}

    @app.get("/widgets/items/{item_id}")
    def read(item_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        raise NotFound(f"widget {item_id} not found")

    @app.get("/widgets/crash")
    def crash() -> None:
        raise RuntimeError("secret internals")

    async def fake_principal() -> Principal:
        return Principal(tenant_id="acme", user_id="alice")

    app.dependency_overrides[current_principal] = fake_principal
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    reset_settings()


def test_domain_errors_become_problem_json(client: TestClient) -> None:
    response = client.post("/widgets/items", json={"name": "taken", "size": 1})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/conflict") and body["detail"] == "widget exists"
    assert body["current_state"] == "active" and body["instance"] == "/widgets/items"


def test_upstream_unavailable_is_503_with_retry_after(client: TestClient) -> None:
    response = client.post("/widgets/items", json={"name": "slow", "size": 1})
    assert response.status_code == 503 and response.headers["retry-after"] == "7"


def test_validation_errors_name_the_field(client: TestClient) -> None:
    response = client.post("/widgets/items", json={"name": "", "size": "big"})
    assert response.status_code == 422
    body = response.json()
    assert {e["field"] for e in body["errors"]} == {"name", "size"}
    assert "name" in body["detail"] and "size" in body["detail"]


def test_unknown_route_is_404_problem(client: TestClient) -> None:
    response = client.get("/widgets/nothing-here")
    assert response.status_code == 404
    assert response.json()["detail"] == "no route for GET /widgets/nothing-here"


def test_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/widgets/items", content=b"x" * 4096, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["status"] == 413


def test_unexpected_errors_do_not_leak_internals(client: TestClient) -> None:
    response = client.get("/widgets/crash")
    assert response.status_code == 500 and "secret" not in response.text


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    assert client.get("/widgets/health", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = client.get("/widgets/items/1").headers["x-request-id"]
    assert len(generated) == 32


def test_health_is_anonymous_and_reports_checks(client: TestClient) -> None:
    body = client.get("/widgets/health").json()
    assert body["status"] == "ok" and body["checks"]["always"]["status"] == "ok"


def test_routes_without_credentials_are_401(monkeypatch: pytest.MonkeyPatch, client: TestClient) -> None:
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    response = client.post("/widgets/items", json={"name": "a", "size": 1})
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"


def test_cursors_are_bound_to_their_tenant() -> None:
    cursor = encode_cursor("acme", {"pk": "acme#DOC", "sk": "d-9"})
    assert cursor is not None and decode_cursor("acme", cursor) == {"pk": "acme#DOC", "sk": "d-9"}
    from stratus.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        decode_cursor("globex", cursor)
    with pytest.raises(ValidationFailed):
        decode_cursor("acme", "%%%not-a-cursor")
    assert decode_cursor("acme", None) is None and encode_cursor("acme", None) is None
    assert Page[int](items=[1, 2], next_cursor=cursor).model_dump()["items"] == [1, 2]
