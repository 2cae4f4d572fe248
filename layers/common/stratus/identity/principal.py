from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Principal(BaseModel):
    """The caller of a request. Every request has one; anonymous routes say so explicitly."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    user_id: str
    roles: tuple[str, ...] = Field(default_factory=tuple)
    key_id: str | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles

    def as_authorizer_context(self) -> dict[str, str]:
        """The flat string map API Gateway carries from the authorizer to the function."""
        return {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "roles": ",".join(self.roles),
            "key_id": self.key_id or "",
        }
