"""The platform API: accounts, members and invitations, API keys, agents with versions and deploys, runs, usage.

Register, login, refresh and accepting an invitation are anonymous (the template says ``Auth: Authorizer: NONE``);
every other route needs a principal: a JWT from login, or an API key. Managing keys, members and invitations needs
the admin role.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Path, Query, Request, Response

from platform_.domain import Run
from platform_.schemas import (
    AcceptInvitationRequest,
    AgentRequest,
    AgentVersionView,
    AgentView,
    ApiKeyRequest,
    ApiKeyView,
    DeploymentView,
    InvitationRequest,
    InvitationView,
    IssuedApiKeyView,
    IssuedInvitationView,
    LoginRequest,
    MemberView,
    RefreshRequest,
    RegisterRequest,
    RolesRequest,
    RollbackRequest,
    RunRequest,
    RunView,
    SessionView,
    UsageView,
    UserView,
)
from platform_.usage import UsageFilter
from platform_.wiring import Accounts, Agents, ApiKeys, Members, Runs, Usage
from stratus.web import (
    AdminPrincipal,
    CurrentPrincipal,
    Page,
    create_app,
    decode_cursor,
    encode_cursor,
    make_handler,
    sse,
)


def _table() -> None:
    from platform_.wiring import get_repository

    get_repository().ping()


app = create_app(
    "platform",
    description="Agent-as-a-service: accounts, API keys, agents with versions and deploys, runs, metered usage",
    health_checks={"table": _table},
)

AgentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9]+$")]
KeyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9]+$")]
UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9]+$")]
InvitationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9]+$")]
RunId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9]+$")]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


@app.post("/platform/auth/register", status_code=201, response_model=SessionView)
def register(body: RegisterRequest, accounts: Accounts) -> SessionView:
    """Anonymous: a new tenant with you as its admin, signed in. 409 for a taken email, 422 for a weak password."""
    return SessionView.of(accounts.register(body.email, body.password, body.tenant_name))


@app.post("/platform/auth/login", response_model=SessionView)
def login(body: LoginRequest, accounts: Accounts) -> SessionView:
    """Anonymous: 401 for a wrong email or password (never which); 429 with Retry-After after repeated failures."""
    return SessionView.of(accounts.login(body.email, body.password))


@app.post("/platform/auth/refresh", response_model=SessionView)
def refresh(body: RefreshRequest, accounts: Accounts) -> SessionView:
    """Anonymous: spend a refresh token for a new access token and the next refresh token."""
    return SessionView.of(accounts.refresh(body.refresh_token))


@app.post("/platform/auth/logout", status_code=204)
def logout(body: RefreshRequest, principal: CurrentPrincipal, accounts: Accounts) -> Response:
    """End the sign-in the refresh token belongs to; access tokens already issued expire on their own."""
    accounts.logout(principal, body.refresh_token)
    return Response(status_code=204)


@app.get("/platform/users/me", response_model=UserView)
def me(principal: CurrentPrincipal, accounts: Accounts) -> UserView:
    return UserView.of(accounts.me(principal), principal)


@app.get("/platform/users", response_model=list[MemberView])
def list_members(principal: AdminPrincipal, members: Members) -> list[MemberView]:
    """The tenant's users, oldest first."""
    return [MemberView.of(user) for user in members.members(principal)]


@app.put("/platform/users/{user_id}/roles", response_model=MemberView)
def set_member_roles(user_id: UserId, body: RolesRequest, principal: AdminPrincipal, members: Members) -> MemberView:
    """Replace a member's roles (not your own); their access token carries them from its next refresh."""
    return MemberView.of(members.set_roles(principal, user_id, tuple(dict.fromkeys(body.roles))))


@app.delete("/platform/users/{user_id}", status_code=204)
def remove_member(user_id: UserId, principal: AdminPrincipal, members: Members) -> Response:
    """Remove a member (not yourself): their email is free again and their refresh tokens stop working."""
    members.remove(principal, user_id)
    return Response(status_code=204)


@app.post("/platform/invitations", status_code=201, response_model=IssuedInvitationView)
def invite(body: InvitationRequest, principal: AdminPrincipal, members: Members) -> IssuedInvitationView:
    """Invite an email with roles; the token is in this answer only (pass it on to the invitee)."""
    invitation, token = members.invite(principal, body.email, tuple(dict.fromkeys(body.roles)))
    return IssuedInvitationView(**InvitationView.of(invitation).model_dump(), token=token)


@app.get("/platform/invitations", response_model=list[InvitationView])
def list_invitations(principal: AdminPrincipal, members: Members) -> list[InvitationView]:
    """Invitations not yet accepted and not expired, without their tokens."""
    return [InvitationView.of(invitation) for invitation in members.pending_invitations(principal)]


@app.delete("/platform/invitations/{invitation_id}", status_code=204)
def withdraw_invitation(invitation_id: InvitationId, principal: AdminPrincipal, members: Members) -> Response:
    members.withdraw(principal, invitation_id)
    return Response(status_code=204)


@app.post("/platform/invitations/accept", status_code=201, response_model=SessionView)
def accept_invitation(body: AcceptInvitationRequest, accounts: Accounts) -> SessionView:
    """Anonymous: join the inviting tenant as the invited email, signed in (404 for an unknown or used token)."""
    return SessionView.of(accounts.join(body.token, body.password))


@app.post("/platform/keys", status_code=201, response_model=IssuedApiKeyView)
def create_key(body: ApiKeyRequest, principal: AdminPrincipal, keys: ApiKeys) -> IssuedApiKeyView:
    """An API key with roles (admin, member, reader); its secret is in this response only."""
    record, plaintext = keys.create(principal, body.name, tuple(dict.fromkeys(body.roles)))
    return IssuedApiKeyView(**ApiKeyView.of(record).model_dump(), api_key=plaintext)


@app.get("/platform/keys", response_model=list[ApiKeyView])
def list_keys(principal: AdminPrincipal, keys: ApiKeys) -> list[ApiKeyView]:
    """Every key of the tenant, newest first, without secrets."""
    return [ApiKeyView.of(record) for record in keys.list_keys(principal)]


@app.post("/platform/keys/{key_id}/rotate", status_code=201, response_model=IssuedApiKeyView)
def rotate_key(key_id: KeyId, principal: AdminPrincipal, keys: ApiKeys) -> IssuedApiKeyView:
    """A new secret for the key (same id, name and roles); the old secret answers 401 from now on."""
    record, plaintext = keys.rotate(principal, key_id)
    return IssuedApiKeyView(**ApiKeyView.of(record).model_dump(), api_key=plaintext)


@app.delete("/platform/keys/{key_id}", status_code=204)
def revoke_key(key_id: KeyId, principal: AdminPrincipal, keys: ApiKeys) -> Response:
    keys.revoke(principal, key_id)
    return Response(status_code=204)


@app.post("/platform/agents", status_code=201, response_model=AgentView)
def create_agent(body: AgentRequest, principal: CurrentPrincipal, agents: Agents, response: Response) -> AgentView:
    agent = agents.create(principal, body)
    response.headers["Location"] = f"/platform/agents/{agent.agent_id}"
    return AgentView.of(agent)


@app.get("/platform/agents", response_model=Page[AgentView])
def list_agents(
    principal: CurrentPrincipal, agents: Agents, limit: Limit = 20, cursor: Cursor = None
) -> Page[AgentView]:
    found, position = agents.list_agents(principal, limit, decode_cursor(principal.tenant_id, cursor))
    return Page(items=[AgentView.of(a) for a in found], next_cursor=encode_cursor(principal.tenant_id, position))


@app.get("/platform/agents/{agent_id}", response_model=AgentView)
def get_agent(agent_id: AgentId, principal: CurrentPrincipal, agents: Agents) -> AgentView:
    return AgentView.of(agents.get(principal, agent_id))


@app.put("/platform/agents/{agent_id}", response_model=AgentView)
def update_agent(agent_id: AgentId, body: AgentRequest, principal: CurrentPrincipal, agents: Agents) -> AgentView:
    """Replace the draft config; deployed versions do not change."""
    return AgentView.of(agents.update(principal, agent_id, body))


@app.delete("/platform/agents/{agent_id}", status_code=204)
def delete_agent(agent_id: AgentId, principal: CurrentPrincipal, agents: Agents) -> Response:
    """The agent with its versions and runs (usage already metered stays)."""
    agents.delete(principal, agent_id)
    return Response(status_code=204)


@app.post("/platform/agents/{agent_id}/deploy", status_code=201, response_model=DeploymentView)
def deploy_agent(agent_id: AgentId, principal: CurrentPrincipal, agents: Agents) -> DeploymentView:
    """Freeze the draft as the next immutable version and point the production alias at it."""
    return DeploymentView.of(*agents.deploy(principal, agent_id))


@app.get("/platform/agents/{agent_id}/versions", response_model=Page[AgentVersionView])
def list_versions(
    agent_id: AgentId, principal: CurrentPrincipal, agents: Agents, limit: Limit = 20, cursor: Cursor = None
) -> Page[AgentVersionView]:
    """Newest first."""
    found, position = agents.versions(principal, agent_id, limit, decode_cursor(principal.tenant_id, cursor))
    return Page(items=[AgentVersionView.of(v) for v in found], next_cursor=encode_cursor(principal.tenant_id, position))


@app.post("/platform/agents/{agent_id}/rollback", response_model=DeploymentView)
def rollback_agent(
    agent_id: AgentId, body: RollbackRequest, principal: CurrentPrincipal, agents: Agents
) -> DeploymentView:
    """Point the production alias at an earlier (or any existing) version."""
    return DeploymentView.of(*agents.rollback(principal, agent_id, body.version))


@app.post("/platform/agents/{agent_id}/run", status_code=201, response_model=RunView)
def run_agent(
    agent_id: AgentId,
    body: RunRequest,
    principal: CurrentPrincipal,
    runs: Runs,
    request: Request,
    response: Response,
) -> RunView | Response:
    """Run the production version: synchronously (201; 502/503 with the failed run's id when the model fails), as
    server-sent events with ``Accept: text/event-stream`` (``chunk`` events, then a ``run`` event with the stored
    run), or with ``mode: async`` queued on the run state machine (202; poll the run)."""
    if body.mode == "sync" and sse.wants_event_stream(request.headers.get("accept")):
        return sse.event_stream(_run_frames(runs.stream(principal, agent_id, body.input, body.version)))
    if body.mode == "async":
        run = runs.start(principal, agent_id, body.input, body.version)
        response.status_code = 202
    else:
        run = runs.run(principal, agent_id, body.input, body.version)
    response.headers["Location"] = f"/platform/runs/{run.run_id}"
    return RunView.of(run)


def _run_frames(pieces: Iterator[str | Run]) -> Iterator[bytes]:
    for piece in pieces:
        if isinstance(piece, str):
            yield sse.format_event("chunk", {"text": piece})
        else:
            yield sse.format_event("run", RunView.of(piece).model_dump(mode="json"))


@app.get("/platform/agents/{agent_id}/runs", response_model=Page[RunView])
def list_runs(
    agent_id: AgentId, principal: CurrentPrincipal, runs: Runs, limit: Limit = 20, cursor: Cursor = None
) -> Page[RunView]:
    """Newest first."""
    found, position = runs.list_runs(principal, agent_id, limit, decode_cursor(principal.tenant_id, cursor))
    return Page(items=[RunView.of(r) for r in found], next_cursor=encode_cursor(principal.tenant_id, position))


@app.get("/platform/runs/{run_id}", response_model=RunView)
def get_run(run_id: RunId, principal: CurrentPrincipal, runs: Runs) -> RunView:
    return RunView.of(runs.get(principal, run_id))


@app.get("/platform/usage", response_model=UsageView)
def usage(
    principal: CurrentPrincipal,
    usage: Usage,
    first_day: Annotated[date | None, Query(alias="from", description="first day (UTC); default: 29 days ago")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="last day (UTC); default: today")] = None,
    day: Annotated[date | None, Query(description="one day; overrides from and to")] = None,
    key_id: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    service: Annotated[str | None, Query(max_length=64)] = None,
) -> UsageView:
    """The tenant's metered model calls per day, service, model and key, with totals (costs exact to 1e-6 USD)."""
    today = datetime.now(UTC).date()
    last = day or last_day or today
    first = day or first_day or last - timedelta(days=29)
    wanted = UsageFilter(first_day=first, last_day=last, key_id=key_id, model=model, service=service)
    return UsageView.of(first, last, usage.daily(principal, wanted))


handler = make_handler(app)
