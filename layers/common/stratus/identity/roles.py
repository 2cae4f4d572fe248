"""Roles a principal can hold, and what each may do. One matrix for every service (docs/architecture.md).

- ``admin``: everything in its tenant, including management routes (registrations and secrets, review
  rules, database connections, agent registration).
- ``member``: create and use resources. A key issued without roles is a member.
- ``reader``: read only (GET, HEAD, OPTIONS).
"""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["admin", "member", "reader"]
ROLES: Final[tuple[Role, ...]] = ("admin", "member", "reader")
READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def effective_roles(roles: tuple[str, ...]) -> frozenset[Role]:
    """The known roles a principal holds; none at all means member (keys issued before roles existed)."""
    known = frozenset(role for role in ROLES if role in roles)
    if not roles:
        return frozenset({"member"})
    return known


def may_write(roles: tuple[str, ...]) -> bool:
    return bool(effective_roles(roles) & {"admin", "member"})


def is_admin(roles: tuple[str, ...]) -> bool:
    return "admin" in effective_roles(roles)
