"""API keys of a tenant: issued with roles and shown once, listed without secrets, rotated, revoked."""

from __future__ import annotations

from stratus.errors import NotFound
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
        """A replacement with the same name and roles; the old key is refused (401) from now on."""
        current = self._live_key(principal, key_id)
        replacement = self._identity.issue_api_key(
            principal.tenant_id, current.user_id, roles=current.roles, name=current.name
        )
        self._identity.revoke_api_key(principal.tenant_id, key_id)
        return replacement

    def revoke(self, principal: Principal, key_id: str) -> None:
        self._identity.revoke_api_key(principal.tenant_id, key_id)

    def _live_key(self, principal: Principal, key_id: str) -> ApiKeyRecord:
        for key in self._identity.list_api_keys(principal.tenant_id):
            if key.key_id == key_id and not key.revoked:
                return key
        raise NotFound(f"API key {key_id} not found or revoked")
