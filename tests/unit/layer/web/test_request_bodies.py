"""A body that cannot be parsed is a 400 saying what and where; a parsed body with bad fields is a 422 naming them."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from stratus.config import reset_settings
from stratus.identity import Principal
from stratus.web import CurrentPrincipal, create_app, current_principal

JSON = {"content-type": "application/json"}


class WidgetRequest(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(ge=1)
    tags: list[str] = Field(default_factory=list)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("MAX_BODY_BYTES", "1000000")
    reset_settings()
    app = create_app("widgets")

    @app.post("/widgets/items", status_code=201)
    def create(widget: WidgetRequest, principal: CurrentPrincipal) -> dict[str, str]:
        return {"name": widget.name}

    async def fake_principal() -> Principal:
        return Principal(tenant_id="acme", user_id="alice")

    app.dependency_overrides[current_principal] = fake_principal
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    reset_settings()


def _malformed(client: TestClient, body: bytes) -> dict[str, object]:
    response = client.post("/widgets/items", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, object] = response.json()
    assert problem["type"] == "https://stratus.dev/problems/malformed-body"
    assert problem["title"] == "Malformed request body"
    assert "errors" not in problem and "field" not in problem
    return problem


def test_a_json_syntax_error_is_400_with_its_line_and_column(client: TestClient) -> None:
    problem = _malformed(client, b'{\n  "name": "bolt",\n  "size": 3,\n}')

    assert problem["detail"] == (
        "request body is not valid JSON: Expecting property name enclosed in double quotes at line 4, column 1 "
        "(character 33)"
    )


def test_a_truncated_body_is_400(client: TestClient) -> None:
    problem = _malformed(client, b'{"name": "bolt"')

    assert str(problem["detail"]).startswith("request body is not valid JSON:")
    assert "line 1, column 16" in str(problem["detail"])


def test_invalid_utf8_is_400_with_its_byte_offset(client: TestClient) -> None:
    problem = _malformed(client, b'{"name": "bo\xfflt", "size": 3}')

    assert problem["detail"] == "request body is not valid UTF-8: invalid start byte at byte offset 12"


def test_nesting_too_deep_to_parse_is_400_saying_where(client: TestClient) -> None:
    # Given more levels than the parser takes; the report names the first level past the recursion limit
    problem = _malformed(client, b'{"tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")

    level = sys.getrecursionlimit() + 1
    assert problem["detail"] == (
        f"request body nests arrays or objects too deeply to parse: level {level} opens at "
        f"line 1, column {level + 8} (character {level + 7})"
    )


def test_brackets_inside_strings_do_not_count_as_nesting(client: TestClient) -> None:
    prefix = b'{"name": "' + b"[" * 10 + b'\\"[", "tags": '
    body = prefix + b"[" * 100_000 + b"]" * 100_000 + b"}"

    # The object is level 1, so level n opens at the (n - 1)th bracket after the prefix
    level = sys.getrecursionlimit() + 1
    detail = str(_malformed(client, body)["detail"])
    assert f"level {level} opens at line 1, column {len(prefix) + level - 1} " in detail


def test_wrong_and_missing_fields_are_422_naming_each_field(client: TestClient) -> None:
    # Given a body that parses but does not fit the request
    response = client.post("/widgets/items", json={"size": "big", "tags": ["ok", 7]})

    # Then
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "https://stratus.dev/problems/validation-failed"
    assert {(e["field"], e["type"]) for e in problem["errors"]} == {
        ("name", "missing"),
        ("size", "int_parsing"),
        ("tags.1", "string_type"),
    }
    assert problem["detail"] == "invalid request: name, size, tags.1"


def test_a_body_of_the_wrong_json_type_is_422(client: TestClient) -> None:
    response = client.post("/widgets/items", content=b"[1, 2]", headers=JSON)

    assert response.status_code == 422
    assert [e["location"] for e in response.json()["errors"]] == ["body"]


def test_a_valid_body_still_succeeds(client: TestClient) -> None:
    assert client.post("/widgets/items", json={"name": "bolt", "size": 3}).status_code == 201
