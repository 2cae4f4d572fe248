"""API keys (salted hashes in DynamoDB), JWT bearer tokens, and the authorizer context."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stratus.cache import per_container
from stratus.config import Settings, get_settings
from stratus.errors import NotFound, Unauthorized
from stratus.identity.models import ApiKeyItem, TenantItem
from stratus.identity.principal import Principal
from stratus.observability import logger
from stratus.storage import bind_model, tenant_key, validate_tenant_id

API_KEY_PREFIX = "stk"
_API_KEY = re.compile(
    r"^stk\.(?P<tenant>[a-z0-9][a-z0-9-]{0,62})\.(?P<key_id>[0-9a-f]{16})\.(?P<secret>[A-Za-z0-9_-]{32,})$"
)


@dataclass(frozen=True, slots=True)
class JwtKey:
    """The key tokens are verified with, and the only algorithms that key may verify."""

    key: Any
    algorithms: tuple[str, ...]


def public_jwt_key(pem: str) -> JwtKey:
    """RS256 for an RSA key, ES256 for a P-256 key: a token signed any other way is refused before verification."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as exc:
        logger.error("JWT_PUBLIC_KEY is not a PEM public key", extra={"error": str(exc)})
        raise Unauthorized("bearer tokens cannot be verified on this deployment") from exc
    if isinstance(key, rsa.RSAPublicKey):
        return JwtKey(key, ("RS256",))
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return JwtKey(key, ("ES256",))
    logger.error("JWT_PUBLIC_KEY must be an RSA or P-256 key", extra={"key_type": type(key).__name__})
    raise Unauthorized("bearer tokens cannot be verified on this deployment")


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    key_id: str
    tenant_id: str
    user_id: str
    name: str
    roles: tuple[str, ...]
    created_at: int
    revoked: bool


def _hash_secret(salt: str, secret: str) -> str:
    # API key secrets are 256-bit random strings, so a salted SHA-256 is enough and keeps auth fast.
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def _record(item: ApiKeyItem) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=item.sk,
        tenant_id=item.tenant_id,
        user_id=item.user_id,
        name=item.name,
        roles=tuple(str(role) for role in item.roles or ()),
        created_at=int(item.created_at),
        revoked=item.revoked_at is not None,
    )


class IdentityService:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._tenants = bind_model(TenantItem, settings.identity_table)
        self._keys = bind_model(ApiKeyItem, settings.identity_table)
        self._jwt_public_key: JwtKey | None = None

    def ensure_tenant(self, tenant_id: str, name: str | None = None) -> None:
        validate_tenant_id(tenant_id)
        TenantItem(tenant_key(tenant_id, "TENANT"), "META", name=name or tenant_id, created_at=int(time.time())).save()

    def issue_api_key(
        self, tenant_id: str, user_id: str, roles: tuple[str, ...] = (), name: str = ""
    ) -> tuple[ApiKeyRecord, str]:
        """Create a key; the plaintext is returned once and never stored."""
        validate_tenant_id(tenant_id)
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        item = ApiKeyItem(
            tenant_key(tenant_id, "APIKEY"),
            key_id,
            user_id=user_id,
            name=name,
            roles=list(roles),
            salt=salt,
            secret_hash=_hash_secret(salt, secret),
            created_at=int(time.time()),
        )
        item.save(condition=ApiKeyItem.pk.does_not_exist())
        return _record(item), f"{API_KEY_PREFIX}.{tenant_id}.{key_id}.{secret}"

    def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]:
        return [_record(item) for item in ApiKeyItem.query(tenant_key(tenant_id, "APIKEY"))]

    def rotate_api_key(self, tenant_id: str, key_id: str) -> tuple[ApiKeyRecord, str]:
        """A new secret for a live key (same id, name and roles); the old secret is refused from now on."""
        from pynamodb.exceptions import UpdateError

        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        item = ApiKeyItem(tenant_key(tenant_id, "APIKEY"), key_id)
        try:
            item.update(
                actions=[ApiKeyItem.salt.set(salt), ApiKeyItem.secret_hash.set(_hash_secret(salt, secret))],
                condition=ApiKeyItem.pk.exists() & ApiKeyItem.revoked_at.does_not_exist(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound(f"API key {key_id} not found or revoked") from exc
            raise
        return _record(item), f"{API_KEY_PREFIX}.{tenant_id}.{key_id}.{secret}"

    def revoke_api_key(self, tenant_id: str, key_id: str) -> None:
        try:
            item = ApiKeyItem.get(tenant_key(tenant_id, "APIKEY"), key_id)
        except ApiKeyItem.DoesNotExist as exc:
            raise NotFound(f"API key {key_id} not found") from exc
        if item.revoked_at is None:
            item.update(actions=[ApiKeyItem.revoked_at.set(int(time.time()))])

    def authenticate_api_key(self, raw_key: str) -> Principal:
        match = _API_KEY.fullmatch(raw_key.strip())
        if match is None:
            raise Unauthorized("malformed API key")
        try:
            item = ApiKeyItem.get(tenant_key(match["tenant"], "APIKEY"), match["key_id"], consistent_read=True)
        except ApiKeyItem.DoesNotExist as exc:
            raise Unauthorized("unknown API key") from exc
        if not hmac.compare_digest(item.secret_hash, _hash_secret(item.salt, match["secret"])):
            raise Unauthorized("unknown API key")
        if item.revoked_at is not None:
            raise Unauthorized("API key has been revoked")
        return Principal(tenant_id=item.tenant_id, user_id=item.user_id, roles=tuple(item.roles or ()), key_id=item.sk)

    def _jwt_verification_key(self) -> JwtKey:
        settings = self._settings
        if settings.jwt_public_key:
            if self._jwt_public_key is None:
                self._jwt_public_key = public_jwt_key(settings.jwt_public_key)
            return self._jwt_public_key
        if settings.jwt_secret_arn:
            from stratus.secrets import get_secret_store

            try:
                return JwtKey(get_secret_store().get(settings.jwt_secret_arn), ("HS256",))
            except NotFound as exc:
                logger.error("the JWT signing secret does not exist", extra={"secret": settings.jwt_secret_arn})
                raise Unauthorized("bearer tokens are not enabled on this deployment") from exc
        if settings.jwt_secret is not None:
            return JwtKey(settings.jwt_secret.get_secret_value(), ("HS256",))
        raise Unauthorized("bearer tokens are not enabled on this deployment")

    def issue_token(self, principal: Principal, ttl_s: int = 3600) -> str:
        """Sign an HS256 token for ``principal`` (dev, tests and service-to-service calls with a shared secret)."""
        import jwt

        key = self._jwt_verification_key()
        if key.algorithms != ("HS256",):
            raise Unauthorized("this deployment verifies tokens with a public key; it cannot issue them")
        now = int(time.time())
        claims = {
            "sub": principal.user_id,
            "tenant_id": principal.tenant_id,
            "roles": list(principal.roles),
            "iss": self._settings.jwt_issuer,
            "aud": self._settings.jwt_audience,
            "iat": now,
            "exp": now + ttl_s,
        }
        return str(jwt.encode(claims, key.key, algorithm="HS256"))

    def authenticate_token(self, token: str) -> Principal:
        import jwt

        key = self._jwt_verification_key()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(key.algorithms),
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                leeway=self._settings.jwt_leeway_s,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token has expired") from exc
        except jwt.PyJWTError as exc:
            # InvalidKeyError is not an InvalidTokenError: a token whose alg does not fit the key is still the caller's.
            raise Unauthorized(f"invalid token: {exc}") from exc
        tenant = claims.get("tenant_id")
        if not isinstance(tenant, str):
            raise Unauthorized("token has no tenant_id claim")
        validate_tenant_id(tenant)
        roles = claims.get("roles", [])
        return Principal(tenant_id=tenant, user_id=str(claims["sub"]), roles=tuple(str(r) for r in roles))

    def bootstrap_dev_tenant(self, tenant_id: str = "dev", user_id: str = "developer") -> str:
        """Create the dev tenant and an admin key for ``make dev``; returns the plaintext key."""
        self.ensure_tenant(tenant_id, name="Development tenant")
        _, plaintext = self.issue_api_key(tenant_id, user_id, roles=("admin",), name="make dev")
        return plaintext


@per_container
def get_identity_service() -> IdentityService:
    return IdentityService(get_settings())


def authenticate_headers(headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> Principal:
    """Authenticate from ``X-Api-Key`` / ``Authorization: Bearer`` (or, for WebSockets, the query string)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    query = query or {}
    api_key = lowered.get("x-api-key") or query.get("api_key")
    combined = query.get("auth")  # WebSocket connect: one query parameter carries a key or a token
    if combined and not api_key:
        if combined.startswith(f"{API_KEY_PREFIX}."):
            return get_identity_service().authenticate_api_key(combined)
        return get_identity_service().authenticate_token(combined)
    if api_key:
        return get_identity_service().authenticate_api_key(api_key)
    authorization = lowered.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return get_identity_service().authenticate_token(authorization[7:].strip())
    if query.get("token"):
        return get_identity_service().authenticate_token(query["token"])
    raise Unauthorized("missing credentials: send X-Api-Key or Authorization: Bearer <token>")
