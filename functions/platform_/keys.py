"""API keys of a tenant: issued with roles and shown once, listed without secrets, rotated, revoked."""

from __future__ import annotations

from stratus.identity import ApiKeyRecord, IdentityService, Principal


class ApiKeyService:
    def __init__(self, identity: IdentityService) -> None:
        self._identity = identity

    def create(self, principal: Principal, name: str, roles: tuple[str, ...]) -> tuple[ApiKeyRecord, str]:
        """The key and its plaintext, which is never shown again."""
        return self._identity.issue_api_key(principal.tenant_id, principal.user_id, roles=roles, name=name)

    def list_keys(self, principal: Principal) -> list[ApiKeyRecord]:
        keys = self._identity.list_api_keys(principal.tenant_id)
        return sorted(keys, key=lambda key: (key.created_at, key.key_id), reverse=True)

    def rotate(self, principal: Principal, key_id: str) -> tuple[ApiKeyRecord, str]:
        """A new secret for the key (same id, so its usage stays under it); the old secret is refused from now on."""
        return self._identity.rotate_api_key(principal.tenant_id, key_id)

    def revoke(self, principal: Principal, key_id: str) -> None:
        self._identity.revoke_api_key(principal.tenant_id, key_id)
