"""Members of a tenant: invitations (a token shown once to the admin who invites), roles, and removal.

The invited person accepts with ``POST /platform/invitations/accept`` (see ``AccountService.join``). A role
change reaches the member's access token at its next refresh; removing a member ends their refreshes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from platform_.accounts import sha256_hex
from platform_.domain import Invitation, User, new_id, normalise_email
from platform_.repository import PlatformRepository
from platform_.settings import PlatformSettings
from stratus.errors import Conflict, NotFound
from stratus.identity import Principal

INVITATION_TOKEN_PREFIX = "inv"


class MemberService:
    def __init__(
        self, settings: PlatformSettings, repository: PlatformRepository, clock: Callable[[], float] = time.time
    ) -> None:
        self._settings = settings
        self._repository = repository
        self._clock = clock

    def members(self, principal: Principal) -> list[User]:
        return sorted(self._repository.list_users(principal.tenant_id), key=lambda user: user.created_at)

    def invite(self, principal: Principal, email: str, roles: tuple[str, ...]) -> tuple[Invitation, str]:
        """The invitation and its token, which only this answer shows (the admin passes it on)."""
        now = self._clock()
        invitation = Invitation(
            tenant_id=principal.tenant_id,
            invitation_id=new_id("i"),
            email=normalise_email(email),
            roles=roles,
            invited_by=principal.user_id,
            created_at=datetime.fromtimestamp(now, tz=UTC),
            expires_at=datetime.fromtimestamp(now + self._settings.platform_invitation_ttl_s, tz=UTC),
            accepted=False,
        )
        secret = secrets.token_urlsafe(32)
        self._repository.create_invitation(invitation, sha256_hex(secret))
        token = f"{INVITATION_TOKEN_PREFIX}.{principal.tenant_id}.{invitation.invitation_id}.{secret}"
        return invitation, token

    def pending_invitations(self, principal: Principal) -> list[Invitation]:
        now = self._clock()
        pending = [
            invitation
            for invitation in self._repository.list_invitations(principal.tenant_id)
            if not invitation.accepted and invitation.expires_at.timestamp() > now
        ]
        return sorted(pending, key=lambda invitation: invitation.created_at)

    def withdraw(self, principal: Principal, invitation_id: str) -> None:
        self._repository.delete_invitation(principal.tenant_id, invitation_id)

    def set_roles(self, principal: Principal, user_id: str, roles: tuple[str, ...]) -> User:
        if user_id == principal.user_id:
            raise Conflict("you cannot change your own roles; ask another admin")
        self._repository.set_roles(principal.tenant_id, user_id, roles)
        return self._member(principal, user_id)

    def remove(self, principal: Principal, user_id: str) -> None:
        """The member and their sign-in; their refresh tokens stop working."""
        if user_id == principal.user_id:
            raise Conflict("you cannot remove yourself; ask another admin")
        member = self._member(principal, user_id)
        self._repository.delete_user(principal.tenant_id, user_id)
        self._repository.release_email(sha256_hex(member.email))

    def _member(self, principal: Principal, user_id: str) -> User:
        found = self._repository.find_user(principal.tenant_id, user_id)
        if found is None:
            raise NotFound(f"user {user_id} not found")
        return found[0]
