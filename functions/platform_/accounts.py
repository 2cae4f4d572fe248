"""Accounts: register a tenant with its first admin, sign in, refresh and sign out.

Access tokens are short JWTs issued by ``stratus.identity`` (every service accepts them). Refresh tokens
are opaque, single use and rotate on every refresh; each sign-in is a family of them, and presenting a
used one again revokes the whole family (someone else holds a copy). Failed sign-ins are counted per
email, whether or not an account has it: backoff first, then a lockout. An attempt is counted before its
password is checked (conditionally on the count seen), so parallel guesses cannot slip past the backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from platform_.domain import (
    Invitation,
    LoginPolicy,
    Session,
    User,
    login_wait_s,
    new_id,
    normalise_email,
    tenant_id_for,
    weak_password,
)
from platform_.passwords import Passwords
from platform_.repository import PlatformRepository
from platform_.settings import PlatformSettings
from stratus.errors import NotFound, RateLimited, Unauthorized, ValidationFailed
from stratus.identity import IdentityService, Principal

REFRESH_TOKEN_PREFIX = "srt"
_REFRESH_TOKEN = re.compile(
    r"^srt\.(?P<tenant>[a-z0-9][a-z0-9-]{0,62})\.(?P<family>[0-9a-f]{32})\.(?P<secret>[A-Za-z0-9_-]{43})$"
)
_INVITATION_TOKEN = re.compile(
    r"^inv\.(?P<tenant>[a-z0-9][a-z0-9-]{0,62})\.(?P<id>i[0-9a-f]{20})\.(?P<secret>[A-Za-z0-9_-]{43})$"
)
_NO_INVITATION = "invitation not found, expired or already used"
_WRONG_CREDENTIALS = "email or password is wrong"
_INVALID_REFRESH = "refresh token is not valid; sign in again"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _RefreshToken:
    tenant_id: str
    family_id: str
    secret: str


def _parse_refresh_token(token: str) -> _RefreshToken | None:
    match = _REFRESH_TOKEN.fullmatch(token.strip())
    if match is None:
        return None
    return _RefreshToken(match["tenant"], match["family"], match["secret"])


class AccountService:
    def __init__(
        self,
        settings: PlatformSettings,
        repository: PlatformRepository,
        passwords: Passwords,
        identity: IdentityService,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._repository = repository
        self._passwords = passwords
        self._identity = identity
        self._clock = clock
        self._policy = LoginPolicy(
            backoff_after=settings.platform_login_backoff_after,
            backoff_base_s=settings.platform_login_backoff_base_s,
            lockout_after=settings.platform_login_lockout_after,
            lockout_s=settings.platform_login_lockout_s,
        )

    def register(self, email: str, password: str, tenant_name: str) -> Session:
        """A new tenant and its first user, an admin, signed in. 409 when the email has an account."""
        user = self.create_account(email, password, tenant_name)
        return self._start_session(user, self._clock())

    def create_account(self, email: str, password: str, tenant_name: str) -> User:
        """A new tenant and its first user, an admin (``register`` and ``python -m platform_.admin``)."""
        email = normalise_email(email)
        password_hash = self._new_password_hash(password, email)
        tenant_id = tenant_id_for(tenant_name)
        user = User(
            tenant_id=tenant_id,
            user_id=new_id("u"),
            email=email,
            roles=("admin",),
            created_at=datetime.fromtimestamp(self._clock(), tz=UTC),
        )
        email_hash = sha256_hex(email)
        self._repository.claim_email(email_hash, tenant_id, user.user_id)
        try:
            self._identity.ensure_tenant(tenant_id, name=tenant_name.strip())
            self._repository.create_user(user, password_hash)
        except Exception:
            self._repository.release_email(email_hash)  # the email stays free when the account is not made
            raise
        return user

    def join(self, invitation_token: str, password: str) -> Session:
        """Accept an invitation: the invited email becomes a user of the tenant with the invited roles, signed in."""
        invitation = self._live_invitation(invitation_token)
        password_hash = self._new_password_hash(password, invitation.email)
        now = self._clock()
        user = User(
            tenant_id=invitation.tenant_id,
            user_id=new_id("u"),
            email=invitation.email,
            roles=invitation.roles,
            created_at=datetime.fromtimestamp(now, tz=UTC),
        )
        email_hash = sha256_hex(invitation.email)
        self._repository.claim_email(email_hash, user.tenant_id, user.user_id)
        try:
            if not self._repository.accept_invitation(user.tenant_id, invitation.invitation_id, now):
                raise NotFound(_NO_INVITATION)
            self._repository.create_user(user, password_hash)
        except Exception:
            self._repository.release_email(email_hash)
            raise
        return self._start_session(user, now)

    def _new_password_hash(self, password: str, email: str) -> str:
        """The hash of a new account's password; 422 when the password is weak."""
        weak = weak_password(password, email, self._settings.platform_password_min_length)
        if weak is not None:
            raise ValidationFailed(f"weak password: {weak.message}", field="password", rule=weak.rule)
        return self._passwords.hash(password)

    def _live_invitation(self, token: str) -> Invitation:
        match = _INVITATION_TOKEN.fullmatch(token.strip())
        found = self._repository.find_invitation(match["tenant"], match["id"]) if match else None
        if match is None or found is None:
            raise NotFound(_NO_INVITATION)
        invitation, token_hash = found
        fresh = invitation.expires_at.timestamp() > self._clock() and not invitation.accepted
        if not fresh or not hmac.compare_digest(token_hash, sha256_hex(match["secret"])):
            raise NotFound(_NO_INVITATION)
        return invitation

    def login(self, email: str, password: str) -> Session:
        email = normalise_email(email)
        email_hash = sha256_hex(email)
        now = self._clock()
        failures, last_failure_at = self._repository.failed_logins(email_hash)
        wait_s = login_wait_s(failures, last_failure_at, now, self._policy)
        if wait_s > 0:
            raise RateLimited(f"too many failed sign-ins for this email; try again in {wait_s} s", retry_after_s=wait_s)
        if not self._repository.reserve_login_attempt(email_hash, failures, now, self._policy.lockout_s):
            raise RateLimited("another sign-in for this email is in progress; try again in 1 s", retry_after_s=1)
        found = self._repository.find_login(email_hash)
        account = self._repository.find_user(*found) if found is not None else None
        stored_hash = account[1] if account is not None else None
        if account is None or not self._passwords.verify(stored_hash, password):
            raise Unauthorized(_WRONG_CREDENTIALS)
        user, password_hash = account
        self._repository.clear_failed_logins(email_hash)
        if self._passwords.needs_rehash(password_hash):
            self._repository.set_password_hash(user.tenant_id, user.user_id, self._passwords.hash(password))
        return self._start_session(user, now)

    def refresh(self, refresh_token: str) -> Session:
        """A new access token and the next refresh token; the presented one is spent."""
        token = _parse_refresh_token(refresh_token)
        if token is None:
            raise Unauthorized(_INVALID_REFRESH)
        now = self._clock()
        family = self._repository.find_session(token.tenant_id, token.family_id)
        if family is None or family.revoked_at is not None or family.expires_at <= now:
            raise Unauthorized(_INVALID_REFRESH)
        token_hash = sha256_hex(token.secret)
        if not self._repository.use_refresh_token(token.tenant_id, token.family_id, token_hash, now):
            used_at = self._repository.refresh_token_used_at(token.tenant_id, token.family_id, token_hash)
            if used_at is None:
                raise Unauthorized(_INVALID_REFRESH)
            if now - used_at <= self._settings.platform_refresh_reuse_grace_s:
                # Two tabs refreshing at once: the loser is refused, but nobody is signed out.
                raise Unauthorized("refresh token was just used; use the refresh token that request returned")
            self._repository.revoke_session(token.tenant_id, token.family_id, "refresh token reused", now)
            raise Unauthorized("refresh token was already used: every token of this sign-in is revoked; sign in again")
        account = self._repository.find_user(token.tenant_id, family.user_id)
        if account is None:
            raise Unauthorized(_INVALID_REFRESH)
        secret = secrets.token_urlsafe(32)
        expires_at = int(family.expires_at)
        self._repository.add_refresh_token(token.tenant_id, token.family_id, sha256_hex(secret), now, expires_at)
        return self._session(account[0], token.family_id, secret, expires_at, now)

    def logout(self, principal: Principal, refresh_token: str) -> None:
        """Revoke the sign-in the refresh token belongs to (it must be the caller's own)."""
        token = _parse_refresh_token(refresh_token)
        family = None
        if token is not None and token.tenant_id == principal.tenant_id:
            family = self._repository.find_session(token.tenant_id, token.family_id)
        if token is None or family is None or family.user_id != principal.user_id:
            raise NotFound("no such session of yours")
        self._repository.revoke_session(token.tenant_id, token.family_id, "signed out", self._clock())

    def me(self, principal: Principal) -> User | None:
        """The caller's account; None for a caller with no platform account (an API key of a service user)."""
        account = self._repository.find_user(principal.tenant_id, principal.user_id)
        return account[0] if account is not None else None

    def _start_session(self, user: User, now: float) -> Session:
        family_id = secrets.token_hex(16)
        secret = secrets.token_urlsafe(32)
        expires_at = int(now) + self._settings.platform_refresh_token_ttl_s
        self._repository.create_session(user.tenant_id, family_id, user.user_id, now, expires_at)
        self._repository.add_refresh_token(user.tenant_id, family_id, sha256_hex(secret), now, expires_at)
        return self._session(user, family_id, secret, expires_at, now)

    def _session(self, user: User, family_id: str, secret: str, expires_at: int, now: float) -> Session:
        ttl_s = self._settings.platform_access_token_ttl_s
        principal = Principal(tenant_id=user.tenant_id, user_id=user.user_id, roles=user.roles)
        return Session(
            user=user,
            access_token=self._identity.issue_token(principal, ttl_s=ttl_s),
            access_expires_in=ttl_s,
            refresh_token=f"{REFRESH_TOKEN_PREFIX}.{user.tenant_id}.{family_id}.{secret}",
            refresh_expires_in=max(0, int(expires_at - now)),
        )
