"""What the platform API accepts (``…Request``) and returns (``…View``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from platform_.domain import (
    PRODUCTION_ALIAS,
    Agent,
    AgentConfig,
    AgentLimits,
    AgentVersion,
    Invitation,
    Run,
    RunStatus,
    Session,
    User,
)
from stratus.identity import Principal
from stratus.identity.roles import Role

if TYPE_CHECKING:
    from stratus.identity import ApiKeyRecord
    from stratus.metering import DailyUsage

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class RegisterRequest(_Request):
    email: str = Field(max_length=254, pattern=_EMAIL)
    password: str = Field(min_length=1, max_length=1024)
    tenant_name: str = Field(min_length=1, max_length=100, pattern=r"\S", description="your organisation's name")


class LoginRequest(_Request):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(_Request):
    refresh_token: str = Field(min_length=1, max_length=200)


class UserView(_View):
    user_id: str
    tenant_id: str
    email: str | None = Field(description="null for a caller with no platform account (a service's API key)")
    roles: list[str]
    key_id: str | None = Field(default=None, description="the API key the caller used, if any")
    created_at: datetime | None = None

    @classmethod
    def of(cls, user: User | None, principal: Principal) -> UserView:
        return cls(
            user_id=principal.user_id,
            tenant_id=principal.tenant_id,
            email=user.email if user else None,
            roles=list(principal.roles),
            key_id=principal.key_id,
            created_at=user.created_at if user else None,
        )


class SessionView(_View):
    token_type: Literal["bearer"] = "bearer"
    access_token: str = Field(description="a JWT every Stratus service accepts as `Authorization: Bearer`")
    expires_in: int = Field(description="seconds the access token stays valid")
    refresh_token: str = Field(description="single use: each refresh returns the next one")
    refresh_expires_in: int
    user_id: str
    tenant_id: str
    roles: list[str]

    @classmethod
    def of(cls, session: Session) -> SessionView:
        return cls(
            access_token=session.access_token,
            expires_in=session.access_expires_in,
            refresh_token=session.refresh_token,
            refresh_expires_in=session.refresh_expires_in,
            user_id=session.user.user_id,
            tenant_id=session.user.tenant_id,
            roles=list(session.user.roles),
        )


class MemberView(_View):
    user_id: str
    email: str
    roles: list[str]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> MemberView:
        return cls(user_id=user.user_id, email=user.email, roles=list(user.roles), created_at=user.created_at)


class RolesRequest(_Request):
    roles: list[Role] = Field(min_length=1, max_length=3)


class InvitationRequest(_Request):
    email: str = Field(max_length=254, pattern=_EMAIL)
    roles: list[Role] = Field(default_factory=lambda: _member(), min_length=1, max_length=3)


class AcceptInvitationRequest(_Request):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class InvitationView(_View):
    id: str
    email: str
    roles: list[str]
    invited_by: str
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationView:
        return cls(
            id=invitation.invitation_id,
            email=invitation.email,
            roles=list(invitation.roles),
            invited_by=invitation.invited_by,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
        )


class IssuedInvitationView(InvitationView):
    token: str = Field(description="shown once: the invitee accepts with it at POST /platform/invitations/accept")


def _member() -> list[Role]:
    return ["member"]


class ApiKeyRequest(_Request):
    name: str = Field(default="", max_length=100)
    roles: list[Role] = Field(default_factory=_member, max_length=3)


class ApiKeyView(_View):
    key_id: str
    name: str
    roles: list[str]
    user_id: str = Field(description="the user the key acts as")
    created_at: datetime
    revoked: bool

    @classmethod
    def of(cls, record: ApiKeyRecord) -> ApiKeyView:
        return cls(
            key_id=record.key_id,
            name=record.name,
            roles=list(record.roles),
            user_id=record.user_id,
            created_at=datetime.fromtimestamp(record.created_at, tz=UTC),
            revoked=record.revoked,
        )


class IssuedApiKeyView(ApiKeyView):
    api_key: str = Field(description="shown once: send it as X-Api-Key")


class AgentRequest(AgentConfig):
    """An agent's config: the draft a deploy freezes."""


class AgentView(_View):
    id: str
    name: str
    description: str
    model: str | None
    system_prompt: str
    tools: list[str]
    limits: AgentLimits
    revision: int = Field(description="increases with every change of the draft")
    production_version: int | None = Field(description=f"the version the {PRODUCTION_ALIAS} alias names")
    latest_version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, agent: Agent) -> AgentView:
        config = agent.config
        return cls(
            id=agent.agent_id,
            name=config.name,
            description=config.description,
            model=config.model,
            system_prompt=config.system_prompt,
            tools=list(config.tools),
            limits=config.limits,
            revision=agent.revision,
            production_version=agent.production_version,
            latest_version=agent.latest_version,
            created_at=agent.created_at,
            updated_at=agent.updated_at,
        )


class AgentVersionView(_View):
    agent_id: str
    version: int
    config: AgentConfig
    revision: int = Field(description="the draft revision this version froze")
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, version: AgentVersion) -> AgentVersionView:
        return cls(
            agent_id=version.agent_id,
            version=version.version,
            config=version.config,
            revision=version.revision,
            created_at=version.created_at,
            created_by=version.created_by,
        )


class DeploymentView(_View):
    agent_id: str
    alias: Literal["production"] = PRODUCTION_ALIAS
    version: int
    config: AgentConfig

    @classmethod
    def of(cls, agent: Agent, version: AgentVersion) -> DeploymentView:
        return cls(agent_id=agent.agent_id, version=version.version, config=version.config)


class RollbackRequest(_Request):
    version: int = Field(ge=1)


class RunRequest(_Request):
    input: str = Field(min_length=1, max_length=32_000)
    mode: Literal["sync", "async"] = Field(
        default="sync", description="async: 202 with the queued run; poll GET /platform/runs/{id}"
    )
    version: int | None = Field(default=None, ge=1, description="unset: the version the production alias names")


class RunView(_View):
    id: str
    agent_id: str
    version: int
    status: RunStatus
    input: str
    output: str | None
    error: str | None
    model: str
    offline: bool = Field(description="true when no real language model produced the output")
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    created_at: datetime

    @classmethod
    def of(cls, run: Run) -> RunView:
        return cls(
            id=run.run_id,
            agent_id=run.agent_id,
            version=run.version,
            status=run.status,
            input=run.input,
            output=run.output,
            error=run.error,
            model=run.model,
            offline=run.offline,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            cost_usd=run.cost_usd,
            latency_ms=run.latency_ms,
            created_at=run.created_at,
        )


class UsageRowView(_View):
    day: date
    service: str
    model: str
    key_id: str | None = Field(description="null: calls made with a signed-in session's token")
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: str = Field(description="exact decimal US dollars (6 places)")

    @classmethod
    def of(cls, row: DailyUsage) -> UsageRowView:
        return cls(
            day=row.day,
            service=row.service,
            model=row.model,
            key_id=row.key_id,
            calls=row.calls,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cost_usd=_usd(row.cost_micro_usd),
        )


class UsageView(_View):
    first_day: date
    last_day: date
    rows: list[UsageRowView]
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: str

    @classmethod
    def of(cls, first_day: date, last_day: date, rows: list[DailyUsage]) -> UsageView:
        return cls(
            first_day=first_day,
            last_day=last_day,
            rows=[UsageRowView.of(row) for row in rows],
            calls=sum(row.calls for row in rows),
            input_tokens=sum(row.input_tokens for row in rows),
            output_tokens=sum(row.output_tokens for row in rows),
            cost_usd=_usd(sum(row.cost_micro_usd for row in rows)),
        )


def _usd(micro_usd: int) -> str:
    return f"{micro_usd // 1_000_000}.{micro_usd % 1_000_000:06d}"
