"""Cold start: the layer's request path imports nothing heavy; AWS SDKs, PynamoDB and JWT load on first use."""

from __future__ import annotations

import pytest

from .fresh_imports import loaded_after

HEAVY = ["boto3", "botocore.client", "pynamodb", "pydantic_settings", "dotenv", "jwt", "cryptography"]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            "from stratus.web import create_app, make_handler\nhandler = make_handler(create_app('probe'))", id="web"
        ),
        pytest.param("import stratus.config, stratus.errors, stratus.observability", id="config-errors-observability"),
        pytest.param("from stratus.realtime import get_connection_registry, validate_topic", id="realtime"),
        pytest.param("import stratus.identity, stratus.secrets, stratus.aws", id="identity-secrets-aws"),
    ],
)
def test_building_an_app_loads_no_aws_sdk_pynamodb_or_jwt(code: str) -> None:
    assert loaded_after(code, HEAVY) == []


def test_a_request_behind_the_authorizer_loads_no_aws_sdk() -> None:
    # Given an app whose route needs a principal, called with API Gateway's authorizer context
    code = """
from stratus.web import CurrentPrincipal, create_app, make_handler
from stratus.local.lambda_dispatch import LocalLambdaContext
app = create_app("probe")

@app.get("/probe/me")
def me(principal: CurrentPrincipal) -> dict[str, str]:
    return {"tenant": principal.tenant_id}

event = {
    "version": "2.0", "routeKey": "GET /probe/me", "rawPath": "/probe/me", "rawQueryString": "", "headers": {},
    "requestContext": {
        "http": {"method": "GET", "path": "/probe/me", "sourceIp": "203.0.113.1", "protocol": "HTTP/1.1"},
        "requestId": "r-1", "stage": "$default", "routeKey": "GET /probe/me",
        "authorizer": {"lambda": {"tenant_id": "acme", "user_id": "alice", "roles": "", "authenticated": "true"}},
    },
    "isBase64Encoded": False,
}
response = make_handler(app)(event, LocalLambdaContext())
assert response["statusCode"] == 200, response
"""
    assert loaded_after(code, HEAVY) == []
