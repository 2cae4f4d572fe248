from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stratus.identity.roles import effective_roles


class Principal(BaseModel):
    """The caller of a request. Every request has one; anonymous routes say so explicitly."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    user_id: str
    roles: tuple[str, ...] = Field(default_factory=tuple)
    key_id: str | None = None

    def has_role(self, role: str) -> bool:
        """Admin holds every role; a key issued without roles is a member (stratus.identity.roles)."""
        held = effective_roles(self.roles)
        return role in held or "admin" in held

    def as_authorizer_context(self) -> dict[str, str]:
        """The flat string map API Gateway carries from the authorizer to the function."""
        return {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "roles": ",".join(self.roles),
            "key_id": self.key_id or "",
        }


def principal_from_authorizer_context(context: Mapping[str, Any]) -> Principal | None:
    """The context our authorizer returned (HTTP API ``lambda`` map or WebSocket flat map)."""
    inner = context.get("lambda", context)
    tenant = inner.get("tenant_id") if isinstance(inner, Mapping) else None
    if not tenant:
        return None
    roles = str(inner.get("roles") or "")
    return Principal(
        tenant_id=str(tenant),
        user_id=str(inner.get("user_id") or ""),
        roles=tuple(r for r in roles.split(",") if r),
        key_id=str(inner.get("key_id") or "") or None,
    )
