"""Bearer tokens are verified only with the algorithm family of the configured key; anything else is a 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from stratus.cache import reset_containers
from stratus.errors import Unauthorized
from stratus.identity import Principal, get_identity_service
from stratus.local.lambda_dispatch import invoke_handler
from stratus.web import CurrentPrincipal, create_app

AUTHORIZER = "authorizer.app.handler"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _pem(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    public = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "mallory", "tenant_id": "acme", "iss": "stratus", "aud": "stratus-api", "iat": now, "exp": now + 60}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_signed_with(secret: bytes) -> str:
    """The algorithm-confusion attack: HMAC over the token with the public key's PEM as the shared secret."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _unsigned() -> str:
    return str(jwt.encode(_claims(), key=None, algorithm="none"))


@pytest.fixture
def rsa_configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A deployment that verifies tokens with an RSA public key (a shared secret is set too, and must not be used)."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("IDENTITY_TABLE", "identity")
    monkeypatch.setenv("JWT_PUBLIC_KEY", _pem(RSA_KEY))
    monkeypatch.setenv("JWT_SECRET", "a-shared-secret-that-is-long-enough-for-hs256")
    reset_containers()
    yield _pem(RSA_KEY)
    reset_containers()


@pytest.fixture
def client(rsa_configured: str) -> Iterator[TestClient]:
    app: FastAPI = create_app("widgets")

    @app.get("/widgets/me")
    def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"tenant": principal.tenant_id, "user": principal.user_id}

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _authorizer_event(token: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/widgets/me",
        "routeKey": "GET /widgets/me",
        "headers": {"authorization": f"Bearer {token}"},
        "requestContext": {"requestId": "req-1", "http": {"method": "GET", "path": "/widgets/me"}},
    }


def test_an_rs256_token_signed_by_the_matching_private_key_is_accepted(client: TestClient) -> None:
    # Given
    token = jwt.encode(_claims(), RSA_KEY, algorithm="RS256")

    # When
    response = client.get("/widgets/me", headers={"Authorization": f"Bearer {token}"})

    # Then
    assert response.status_code == 200
    assert response.json() == {"tenant": "acme", "user": "mallory"}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda pem: _hs256_signed_with(pem.encode()), id="hs256-with-the-public-key-as-secret"),
        pytest.param(lambda pem: _hs256_signed_with(b"a-shared-secret-that-is-long-enough-for-hs256"), id="hs256"),
        pytest.param(lambda pem: _unsigned(), id="alg-none"),
        pytest.param(lambda pem: jwt.encode(_claims(), EC_KEY, algorithm="ES256"), id="es256-from-another-family"),
    ],
)
def test_a_token_whose_algorithm_does_not_fit_the_rsa_key_gets_401_problem_json(
    client: TestClient, rsa_configured: str, forge: Any
) -> None:
    # When
    response = client.get("/widgets/me", headers={"Authorization": f"Bearer {forge(rsa_configured)}"})

    # Then
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/unauthorized")


def test_the_authorizer_passes_an_hs256_token_through_unauthenticated_when_an_rsa_key_is_configured(
    rsa_configured: str,
) -> None:
    # When
    result = invoke_handler(AUTHORIZER, _authorizer_event(_hs256_signed_with(rsa_configured.encode())))

    # Then the function answers 401 itself, as for any caller it cannot identify
    assert result == {"isAuthorized": True, "context": {"authenticated": "false"}}


def test_the_authorizer_refuses_an_unsigned_token(rsa_configured: str) -> None:
    result = invoke_handler(AUTHORIZER, _authorizer_event(_unsigned()))

    assert result == {"isAuthorized": True, "context": {"authenticated": "false"}}


def test_the_authorizer_accepts_an_rs256_token_of_the_configured_key(rsa_configured: str) -> None:
    result = invoke_handler(AUTHORIZER, _authorizer_event(jwt.encode(_claims(), RSA_KEY, algorithm="RS256")))

    assert result["context"]["authenticated"] == "true" and result["context"]["tenant_id"] == "acme"


def test_an_ec_key_verifies_es256_and_refuses_rs256(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment with a P-256 public key
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("IDENTITY_TABLE", "identity")
    monkeypatch.setenv("JWT_PUBLIC_KEY", _pem(EC_KEY))
    reset_containers()
    identity = get_identity_service()

    # When / Then
    assert identity.authenticate_token(jwt.encode(_claims(), EC_KEY, algorithm="ES256")).tenant_id == "acme"
    with pytest.raises(Unauthorized):
        identity.authenticate_token(jwt.encode(_claims(), RSA_KEY, algorithm="RS256"))
    with pytest.raises(Unauthorized):
        identity.authenticate_token(_hs256_signed_with(_pem(EC_KEY).encode()))
    reset_containers()


def test_a_shared_secret_verifies_hs256_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment with a shared secret and no public key
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("IDENTITY_TABLE", "identity")
    monkeypatch.delenv("JWT_PUBLIC_KEY", raising=False)
    monkeypatch.setenv("JWT_SECRET", "a-shared-secret-that-is-long-enough-for-hs256")
    reset_containers()
    identity = get_identity_service()

    # When / Then
    issued = identity.issue_token(Principal(tenant_id="acme", user_id="alice"))
    assert identity.authenticate_token(issued).user_id == "alice"
    with pytest.raises(Unauthorized):
        identity.authenticate_token(jwt.encode(_claims(), RSA_KEY, algorithm="RS256"))
    reset_containers()


def test_a_deployment_with_a_public_key_cannot_issue_shared_secret_tokens(rsa_configured: str) -> None:
    with pytest.raises(Unauthorized, match="public key"):
        get_identity_service().issue_token(Principal(tenant_id="acme", user_id="alice"))


def test_an_unusable_public_key_refuses_tokens_with_401_not_500(
    monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    # Given an operator pasted something that is not a PEM public key
    monkeypatch.setenv("JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    reset_containers()

    # When
    response = client.get("/widgets/me", headers={"Authorization": f"Bearer {_unsigned()}"})

    # Then
    assert response.status_code == 401


def test_the_websocket_authorizer_answers_unauthorized_to_an_hs256_token_when_an_rsa_key_is_configured(
    rsa_configured: str,
) -> None:
    # Given a $connect carrying the forged token in the query string
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:ws/dev/$connect",
        "headers": {},
        "queryStringParameters": {"auth": _hs256_signed_with(rsa_configured.encode())},
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c-1"},
    }

    # When / Then: exactly "Unauthorized", which API Gateway turns into a 401
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        invoke_handler(AUTHORIZER, event)
