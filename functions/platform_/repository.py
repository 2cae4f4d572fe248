"""DynamoDB access of the platform: every method takes the tenant (the sign-in index takes an email hash).

Positions in and out are ``{"sk": ...}`` dicts: the partition is always rebuilt from the tenant, so a
position can never lead a query into another tenant's items.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.expressions.update import Action

from platform_.domain import Agent, AgentConfig, AgentVersion, Invitation, Run, RunStatus, User
from platform_.items import (
    EMAIL_PREFIX,
    AgentItem,
    AgentRunItem,
    AgentVersionItem,
    InvitationItem,
    LoginAttemptsItem,
    LoginItem,
    RefreshTokenItem,
    RunItem,
    SessionFamilyItem,
    UserItem,
)
from platform_.settings import PlatformSettings
from stratus.errors import Conflict, NotFound, ValidationFailed
from stratus.storage import TenantModel, bind_model, tenant_key

_CONDITION_FAILED = "ConditionalCheckFailedException"
Position = dict[str, Any]


def _condition_failed(exc: PutError | UpdateError | DeleteError) -> bool:
    return exc.cause_response_code == _CONDITION_FAILED


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def _version_key(version: int) -> str:
    return f"V#{version:08d}"


def _agent(item: AgentItem) -> Agent:
    return Agent(
        tenant_id=item.tenant_id,
        agent_id=item.sk,
        config=AgentConfig.model_validate(item.config),
        revision=int(item.revision),
        production_version=None if item.production_version is None else int(item.production_version),
        latest_version=int(item.latest_version),
        created_at=_at(item.created_at),
        updated_at=_at(item.updated_at),
        created_by=item.created_by,
    )


def _version(item: AgentVersionItem) -> AgentVersion:
    return AgentVersion(
        agent_id=item.pk.rsplit("#", 1)[1],
        version=int(item.sk.removeprefix("V#")),
        config=AgentConfig.model_validate(item.config),
        revision=int(item.revision),
        created_at=_at(item.created_at),
        created_by=item.created_by,
    )


def _invitation(item: InvitationItem) -> Invitation:
    return Invitation(
        tenant_id=item.tenant_id,
        invitation_id=item.sk,
        email=item.email,
        roles=tuple(str(role) for role in item.roles or ()),
        invited_by=item.invited_by,
        created_at=_at(item.created_at),
        expires_at=_at(item.expires_at),
        accepted=item.accepted_at is not None,
    )


def _run_status(stored: str) -> RunStatus:
    if stored == "queued":
        return "queued"
    return "succeeded" if stored == "succeeded" else "failed"


def _run(item: RunItem) -> Run:
    return Run(
        tenant_id=item.tenant_id,
        run_id=item.sk.removeprefix("RUN#"),
        agent_id=item.agent_id,
        version=int(item.version),
        status=_run_status(item.status),
        input=item.input,
        output=item.output,
        error=item.error,
        model=item.model,
        offline=bool(item.offline),
        input_tokens=int(item.input_tokens),
        output_tokens=int(item.output_tokens),
        cost_usd=float(item.cost_usd),
        latency_ms=float(item.latency_ms),
        created_at=_at(item.created_at),
        user_id=item.user_id,
        key_id=item.key_id,
    )


class PlatformRepository:
    def __init__(self, settings: PlatformSettings) -> None:
        table = settings.platform_table
        for model in (
            LoginItem,
            LoginAttemptsItem,
            UserItem,
            InvitationItem,
            SessionFamilyItem,
            RefreshTokenItem,
            AgentItem,
            AgentVersionItem,
            RunItem,
            AgentRunItem,
        ):
            bind_model(model, table)

    def ping(self) -> None:
        """Reach the table (the health check)."""
        UserItem.count(tenant_key("health", "USER"), limit=1)

    # Sign-in index and guard (keyed by the email's hash; no tenant).

    def claim_email(self, email_hash: str, tenant_id: str, user_id: str) -> None:
        """Reserve the email for a new account: 409 when another account has it."""
        item = LoginItem(EMAIL_PREFIX + email_hash, "LOGIN", tenant_id=tenant_id, user_id=user_id)
        try:
            item.save(condition=LoginItem.pk.does_not_exist())
        except PutError as exc:
            if _condition_failed(exc):
                raise Conflict("an account with this email already exists", field="email") from exc
            raise

    def release_email(self, email_hash: str) -> None:
        LoginItem(EMAIL_PREFIX + email_hash, "LOGIN").delete()

    def find_login(self, email_hash: str) -> tuple[str, str] | None:
        """(tenant id, user id) of the account with this email, if any."""
        try:
            item = LoginItem.get(EMAIL_PREFIX + email_hash, "LOGIN", consistent_read=True)
        except LoginItem.DoesNotExist:
            return None
        return item.tenant_id, item.user_id

    def failed_logins(self, email_hash: str) -> tuple[int, float]:
        """(failures, time of the last one) for this email."""
        try:
            item = LoginAttemptsItem.get(EMAIL_PREFIX + email_hash, "ATTEMPTS", consistent_read=True)
        except LoginAttemptsItem.DoesNotExist:
            return 0, 0.0
        if item.expires_at < time.time():
            return 0, 0.0
        return int(item.failures), float(item.last_failure_at)

    def reserve_login_attempt(self, email_hash: str, seen_failures: int, now: float, forget_after_s: int) -> bool:
        """Count an attempt as failed before its password is checked; False when another attempt got there first.

        Conditional on the count the caller saw, so parallel attempts cannot all pass the backoff check.
        """
        item = LoginAttemptsItem(EMAIL_PREFIX + email_hash, "ATTEMPTS")
        if seen_failures == 0:
            condition = LoginAttemptsItem.pk.does_not_exist() | (LoginAttemptsItem.expires_at < int(now))
        else:
            condition = LoginAttemptsItem.failures == seen_failures
        try:
            item.update(
                actions=[
                    LoginAttemptsItem.failures.set(seen_failures + 1),
                    LoginAttemptsItem.last_failure_at.set(now),
                    LoginAttemptsItem.expires_at.set(int(now) + forget_after_s),
                ],
                condition=condition,
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def clear_failed_logins(self, email_hash: str) -> None:
        LoginAttemptsItem(EMAIL_PREFIX + email_hash, "ATTEMPTS").delete()

    # Users.

    def create_user(self, user: User, password_hash: str) -> None:
        UserItem(
            tenant_key(user.tenant_id, "USER"),
            user.user_id,
            email=user.email,
            password_hash=password_hash,
            roles=list(user.roles),
            created_at=user.created_at.timestamp(),
        ).save(condition=UserItem.pk.does_not_exist())

    def find_user(self, tenant_id: str, user_id: str) -> tuple[User, str] | None:
        """The user and its password hash."""
        try:
            item = UserItem.get(tenant_key(tenant_id, "USER"), user_id, consistent_read=True)
        except UserItem.DoesNotExist:
            return None
        user = User(
            tenant_id=tenant_id,
            user_id=item.sk,
            email=item.email,
            roles=tuple(str(role) for role in item.roles or ()),
            created_at=_at(item.created_at),
        )
        return user, item.password_hash

    def set_password_hash(self, tenant_id: str, user_id: str, password_hash: str) -> None:
        UserItem(tenant_key(tenant_id, "USER"), user_id).update(actions=[UserItem.password_hash.set(password_hash)])

    def list_users(self, tenant_id: str) -> list[User]:
        return [
            User(
                tenant_id=tenant_id,
                user_id=item.sk,
                email=item.email,
                roles=tuple(str(role) for role in item.roles or ()),
                created_at=_at(item.created_at),
            )
            for item in UserItem.query(tenant_key(tenant_id, "USER"))
        ]

    def set_roles(self, tenant_id: str, user_id: str, roles: tuple[str, ...]) -> None:
        try:
            UserItem(tenant_key(tenant_id, "USER"), user_id).update(
                actions=[UserItem.roles.set(list(roles))],  # type: ignore[arg-type]  # stubs type the element class
                condition=UserItem.pk.exists(),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                raise NotFound(f"user {user_id} not found") from exc
            raise

    def delete_user(self, tenant_id: str, user_id: str) -> None:
        UserItem(tenant_key(tenant_id, "USER"), user_id).delete()

    # Invitations.

    def create_invitation(self, invitation: Invitation, token_hash: str) -> None:
        InvitationItem(
            tenant_key(invitation.tenant_id, "INVITE"),
            invitation.invitation_id,
            email=invitation.email,
            roles=list(invitation.roles),
            token_hash=token_hash,
            invited_by=invitation.invited_by,
            created_at=invitation.created_at.timestamp(),
            expires_at=int(invitation.expires_at.timestamp()),
        ).save(condition=InvitationItem.pk.does_not_exist())

    def find_invitation(self, tenant_id: str, invitation_id: str) -> tuple[Invitation, str] | None:
        """The invitation and the hash of its token."""
        try:
            item = InvitationItem.get(tenant_key(tenant_id, "INVITE"), invitation_id, consistent_read=True)
        except InvitationItem.DoesNotExist:
            return None
        return _invitation(item), item.token_hash

    def list_invitations(self, tenant_id: str) -> list[Invitation]:
        return [_invitation(item) for item in InvitationItem.query(tenant_key(tenant_id, "INVITE"))]

    def accept_invitation(self, tenant_id: str, invitation_id: str, now: float) -> bool:
        """Mark it accepted; False when it was accepted (or withdrawn) already."""
        item = InvitationItem(tenant_key(tenant_id, "INVITE"), invitation_id)
        try:
            item.update(
                actions=[InvitationItem.accepted_at.set(now)],
                condition=InvitationItem.pk.exists() & InvitationItem.accepted_at.does_not_exist(),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def delete_invitation(self, tenant_id: str, invitation_id: str) -> None:
        try:
            InvitationItem(tenant_key(tenant_id, "INVITE"), invitation_id).delete(condition=InvitationItem.pk.exists())
        except DeleteError as exc:
            if _condition_failed(exc):
                raise NotFound(f"invitation {invitation_id} not found") from exc
            raise

    # Sessions: a family of refresh tokens per sign-in.

    def create_session(self, tenant_id: str, family_id: str, user_id: str, now: float, expires_at: int) -> None:
        SessionFamilyItem(
            tenant_key(tenant_id, "SESSION", family_id),
            "FAMILY",
            user_id=user_id,
            created_at=now,
            expires_at=expires_at,
        ).save(condition=SessionFamilyItem.pk.does_not_exist())

    def find_session(self, tenant_id: str, family_id: str) -> SessionFamilyItem | None:
        try:
            return SessionFamilyItem.get(tenant_key(tenant_id, "SESSION", family_id), "FAMILY", consistent_read=True)
        except SessionFamilyItem.DoesNotExist:
            return None

    def revoke_session(self, tenant_id: str, family_id: str, reason: str, now: float) -> None:
        item = SessionFamilyItem(tenant_key(tenant_id, "SESSION", family_id), "FAMILY")
        try:
            item.update(
                actions=[SessionFamilyItem.revoked_at.set(now), SessionFamilyItem.revoked_reason.set(reason)],
                condition=SessionFamilyItem.pk.exists() & SessionFamilyItem.revoked_at.does_not_exist(),
            )
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise

    def add_refresh_token(self, tenant_id: str, family_id: str, token_hash: str, now: float, expires_at: int) -> None:
        RefreshTokenItem(
            tenant_key(tenant_id, "SESSION", family_id),
            f"TOKEN#{token_hash}",
            issued_at=now,
            expires_at=expires_at,
        ).save(condition=RefreshTokenItem.pk.does_not_exist())

    def refresh_token_used_at(self, tenant_id: str, family_id: str, token_hash: str) -> float | None:
        """When the token was spent; None when no such token was ever issued in the family."""
        try:
            item = RefreshTokenItem.get(
                tenant_key(tenant_id, "SESSION", family_id), f"TOKEN#{token_hash}", consistent_read=True
            )
        except RefreshTokenItem.DoesNotExist:
            return None
        return float(item.used_at) if item.used_at is not None else None

    def use_refresh_token(self, tenant_id: str, family_id: str, token_hash: str, now: float) -> bool:
        """Mark the token used; False when it does not exist or was used before (a replay)."""
        item = RefreshTokenItem(tenant_key(tenant_id, "SESSION", family_id), f"TOKEN#{token_hash}")
        try:
            item.update(
                actions=[RefreshTokenItem.used_at.set(now)],
                condition=RefreshTokenItem.pk.exists() & RefreshTokenItem.used_at.does_not_exist(),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    # Agents and versions.

    def create_agent(self, agent: Agent) -> None:
        AgentItem(
            tenant_key(agent.tenant_id, "AGENT"),
            agent.agent_id,
            config=agent.config.model_dump(mode="json"),
            revision=agent.revision,
            latest_version=agent.latest_version,
            created_at=agent.created_at.timestamp(),
            updated_at=agent.updated_at.timestamp(),
            created_by=agent.created_by,
        ).save(condition=AgentItem.pk.does_not_exist())

    def get_agent(self, tenant_id: str, agent_id: str) -> Agent:
        try:
            return _agent(AgentItem.get(tenant_key(tenant_id, "AGENT"), agent_id, consistent_read=True))
        except AgentItem.DoesNotExist as exc:
            raise NotFound(f"agent {agent_id} not found") from exc

    def list_agents(self, tenant_id: str, limit: int, position: Position | None) -> tuple[list[Agent], Position | None]:
        pk = tenant_key(tenant_id, "AGENT")
        results = AgentItem.query(pk, limit=limit, last_evaluated_key=_start(pk, position))
        agents = [_agent(item) for item in results]
        return agents, _position(results.last_evaluated_key)

    def update_agent_config(self, tenant_id: str, agent_id: str, config: AgentConfig, now: float) -> Agent:
        item = AgentItem(tenant_key(tenant_id, "AGENT"), agent_id)
        try:
            item.update(
                actions=[
                    AgentItem.config.set(config.model_dump(mode="json")),
                    AgentItem.revision.add(1),
                    AgentItem.updated_at.set(now),
                ],
                condition=AgentItem.pk.exists(),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                raise NotFound(f"agent {agent_id} not found") from exc
            raise
        return _agent(item)

    def delete_agent(self, tenant_id: str, agent_id: str) -> None:
        """The agent, its versions and its runs."""
        try:
            AgentItem(tenant_key(tenant_id, "AGENT"), agent_id).delete(condition=AgentItem.pk.exists())
        except DeleteError as exc:
            if _condition_failed(exc):
                raise NotFound(f"agent {agent_id} not found") from exc
            raise
        agent_pk = tenant_key(tenant_id, "AGENT", agent_id)
        with AgentVersionItem.batch_write() as versions:
            for version in AgentVersionItem.query(agent_pk, AgentVersionItem.sk.startswith("V#")):
                versions.delete(version)
        run_ids = []
        with AgentRunItem.batch_write() as agent_runs:
            for run in AgentRunItem.query(agent_pk, AgentRunItem.sk.startswith("RUN#")):
                run_ids.append(run.sk)
                agent_runs.delete(run)
        with RunItem.batch_write() as runs:
            for sort_key in run_ids:
                runs.delete(RunItem(tenant_key(tenant_id, "RUN"), sort_key))

    def last_version(self, tenant_id: str, agent_id: str) -> int:
        pk = tenant_key(tenant_id, "AGENT", agent_id)
        for item in AgentVersionItem.query(pk, AgentVersionItem.sk.startswith("V#"), scan_index_forward=False, limit=1):
            return int(item.sk.removeprefix("V#"))
        return 0

    def create_version(self, tenant_id: str, version: AgentVersion) -> None:
        """Versions are immutable: 409 when the number is taken (a concurrent deploy)."""
        item = AgentVersionItem(
            tenant_key(tenant_id, "AGENT", version.agent_id),
            _version_key(version.version),
            config=version.config.model_dump(mode="json"),
            revision=version.revision,
            created_at=version.created_at.timestamp(),
            created_by=version.created_by,
        )
        try:
            item.save(condition=AgentVersionItem.pk.does_not_exist())
        except PutError as exc:
            if _condition_failed(exc):
                raise Conflict(f"version {version.version} was just deployed by another request; retry") from exc
            raise

    def set_production(self, tenant_id: str, agent_id: str, version: int, latest: int | None, now: float) -> Agent:
        """Point the production alias at ``version``; a deploy (``latest``) only moves it forward, so when two
        deploys race the alias ends on the newer version whatever order their writes land in."""
        item = AgentItem(tenant_key(tenant_id, "AGENT"), agent_id)
        actions: list[Action] = [AgentItem.production_version.set(version), AgentItem.updated_at.set(now)]
        condition = AgentItem.pk.exists()
        if latest is not None:
            actions.append(AgentItem.latest_version.set(latest))
            condition &= AgentItem.latest_version < latest
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
            return self.get_agent(tenant_id, agent_id)  # a newer deploy moved it already (or 404: deleted)
        return _agent(item)

    def get_version(self, tenant_id: str, agent_id: str, version: int) -> AgentVersion:
        try:
            item = AgentVersionItem.get(tenant_key(tenant_id, "AGENT", agent_id), _version_key(version))
        except AgentVersionItem.DoesNotExist as exc:
            raise NotFound(f"agent {agent_id} has no version {version}") from exc
        return _version(item)

    def list_versions(
        self, tenant_id: str, agent_id: str, limit: int, position: Position | None
    ) -> tuple[list[AgentVersion], Position | None]:
        pk = tenant_key(tenant_id, "AGENT", agent_id)
        return _newest_first(AgentVersionItem, pk, "V#", limit, position, _version)

    # Runs.

    def save_run(self, run: Run) -> None:
        attributes: dict[str, Any] = {
            "agent_id": run.agent_id,
            "version": run.version,
            "status": run.status,
            "input": run.input,
            "output": run.output,
            "error": run.error,
            "model": run.model,
            "offline": run.offline,
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": run.cost_usd,
            "latency_ms": run.latency_ms,
            "created_at": run.created_at.timestamp(),
            "user_id": run.user_id,
            "key_id": run.key_id,
        }
        RunItem(tenant_key(run.tenant_id, "RUN"), f"RUN#{run.run_id}", **attributes).save()
        AgentRunItem(tenant_key(run.tenant_id, "AGENT", run.agent_id), f"RUN#{run.run_id}", **attributes).save()

    def get_run(self, tenant_id: str, run_id: str) -> Run:
        try:
            return _run(RunItem.get(tenant_key(tenant_id, "RUN"), f"RUN#{run_id}"))
        except RunItem.DoesNotExist as exc:
            raise NotFound(f"run {run_id} not found") from exc

    def list_runs(
        self, tenant_id: str, agent_id: str, limit: int, position: Position | None
    ) -> tuple[list[Run], Position | None]:
        return _newest_first(AgentRunItem, tenant_key(tenant_id, "AGENT", agent_id), "RUN#", limit, position, _run)


def _newest_first[I: TenantModel, T](
    model: type[I], pk: str, prefix: str, limit: int, position: Position | None, record: Callable[[I], T]
) -> tuple[list[T], Position | None]:
    """One page of the items under ``pk`` whose sort key starts with ``prefix``, the last written first."""
    start = _start(pk, position)
    if start is not None and not start["sk"]["S"].startswith(prefix):
        raise ValidationFailed("cursor is malformed", field="cursor")  # a cursor of another list
    results = model.query(
        pk, model.sk.startswith(prefix), scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    page = [record(item) for item in results]
    return page, _position(results.last_evaluated_key)


def _start(pk: str, position: Position | None) -> dict[str, Any] | None:
    """The exclusive start key of a page: the caller's sort key under the tenant's own partition."""
    if not position or not isinstance(position.get("sk"), str):
        return None
    return {"pk": {"S": pk}, "sk": {"S": position["sk"]}}


def _position(last_evaluated_key: dict[str, Any] | None) -> Position | None:
    if not last_evaluated_key:
        return None
    return {"sk": last_evaluated_key["sk"]["S"]}
