"""API keys, JWTs and the authorizer context, against the identity table of the embedded AWS."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest

from stratus.errors import NotFound, Unauthorized, ValidationFailed
from stratus.identity import (
    IdentityService,
    Principal,
    authenticate_headers,
    get_identity_service,
    principal_from_authorizer_context,
)
from stratus.local.embedded import LOCAL_ENVIRONMENT, EmbeddedAws


@pytest.fixture(scope="module")
def identity() -> Iterator[IdentityService]:
    with EmbeddedAws():
        yield get_identity_service()


def test_a_valid_api_key_yields_its_principal(identity: IdentityService) -> None:
    record, key = identity.issue_api_key("acme", "alice", roles=("member",), name="ci")
    principal = identity.authenticate_api_key(key)
    assert principal == Principal(tenant_id="acme", user_id="alice", roles=("member",), key_id=record.key_id)


def test_only_a_salted_hash_is_stored(identity: IdentityService) -> None:
    from stratus.identity.models import ApiKeyItem

    record, key = identity.issue_api_key("acme", "alice")
    secret = key.rsplit(".", 1)[1]
    item = ApiKeyItem.get("acme#APIKEY", record.key_id)
    assert secret not in str(item.attribute_values)
    assert len(item.salt) == 32 and len(item.secret_hash) == 64


def test_a_wrong_secret_is_refused(identity: IdentityService) -> None:
    _, key = identity.issue_api_key("acme", "alice")
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized, match="unknown API key"):
        identity.authenticate_api_key(forged)


def test_a_key_cannot_be_replayed_against_another_tenant(identity: IdentityService) -> None:
    _, key = identity.issue_api_key("acme", "alice")
    _, _tenant, key_id, secret = key.split(".")
    with pytest.raises(Unauthorized):
        identity.authenticate_api_key(f"stk.globex.{key_id}.{secret}")


def test_a_revoked_key_is_refused(identity: IdentityService) -> None:
    record, key = identity.issue_api_key("acme", "alice")
    identity.revoke_api_key("acme", record.key_id)
    with pytest.raises(Unauthorized, match="revoked"):
        identity.authenticate_api_key(key)
    assert [k.revoked for k in identity.list_api_keys("acme") if k.key_id == record.key_id] == [True]


def test_revoking_another_tenants_key_is_not_found(identity: IdentityService) -> None:
    record, key = identity.issue_api_key("acme", "alice")
    with pytest.raises(NotFound):
        identity.revoke_api_key("globex", record.key_id)
    assert identity.authenticate_api_key(key).tenant_id == "acme"


@pytest.mark.parametrize(
    "raw", ["", "stk", "Bearer x", "stk.acme.short.secret", "stk.ACME.0123456789abcdef." + "a" * 43]
)
def test_malformed_keys_are_refused(identity: IdentityService, raw: str) -> None:
    with pytest.raises(Unauthorized):
        identity.authenticate_api_key(raw)


def test_a_valid_token_yields_its_principal(identity: IdentityService) -> None:
    token = identity.issue_token(Principal(tenant_id="acme", user_id="alice", roles=("admin",)))
    assert identity.authenticate_token(token) == Principal(tenant_id="acme", user_id="alice", roles=("admin",))


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "alice",
        "tenant_id": "acme",
        "iss": "stratus",
        "aud": "stratus-api",
        "iat": now,
        "exp": now + 60,
    }
    claims.update(overrides)
    return claims


def test_an_expired_token_is_refused(identity: IdentityService) -> None:
    token = jwt.encode(_claims(exp=int(time.time()) - 3600), LOCAL_ENVIRONMENT["JWT_SECRET"], algorithm="HS256")
    with pytest.raises(Unauthorized, match="expired"):
        identity.authenticate_token(token)


def test_a_token_with_a_wrong_signature_is_refused(identity: IdentityService) -> None:
    token = jwt.encode(_claims(), "another-secret-of-sufficient-length-xx", algorithm="HS256")
    with pytest.raises(Unauthorized, match="invalid token"):
        identity.authenticate_token(token)


def test_an_unsigned_token_is_refused(identity: IdentityService) -> None:
    token = jwt.encode(_claims(), key=None, algorithm="none")
    with pytest.raises(Unauthorized):
        identity.authenticate_token(token)


@pytest.mark.parametrize(
    "claims",
    [_claims(tenant_id=None), _claims(aud="someone-else"), _claims(iss="evil"), _claims(tenant_id="Not A Tenant")],
)
def test_tokens_without_a_valid_tenant_audience_or_issuer_are_refused(
    identity: IdentityService, claims: dict[str, object]
) -> None:
    token = jwt.encode({k: v for k, v in claims.items() if v is not None}, LOCAL_ENVIRONMENT["JWT_SECRET"], "HS256")
    with pytest.raises((Unauthorized, ValidationFailed)):
        identity.authenticate_token(token)


def test_headers_take_a_key_or_a_bearer_token(identity: IdentityService) -> None:
    _, key = identity.issue_api_key("acme", "alice")
    token = identity.issue_token(Principal(tenant_id="acme", user_id="bob"))
    assert authenticate_headers({"X-Api-Key": key}).user_id == "alice"
    assert authenticate_headers({"Authorization": f"Bearer {token}"}).user_id == "bob"
    assert authenticate_headers({}, {"auth": key}).user_id == "alice"
    assert authenticate_headers({}, {"auth": token}).user_id == "bob"
    with pytest.raises(Unauthorized, match="missing credentials"):
        authenticate_headers({"Authorization": "Basic abc"})


def test_authorizer_context_round_trips_a_principal() -> None:
    principal = Principal(tenant_id="acme", user_id="alice", roles=("admin", "member"), key_id="k1")
    http_context = {"lambda": {**principal.as_authorizer_context(), "authenticated": "true"}}
    assert principal_from_authorizer_context(http_context) == principal
    websocket_context = {"principalId": "acme/alice", **principal.as_authorizer_context()}
    assert principal_from_authorizer_context(websocket_context) == principal
    assert principal_from_authorizer_context({"lambda": {"authenticated": "false"}}) is None
