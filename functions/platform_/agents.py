"""Agents: a draft config that can be edited, immutable versions made by deploys, and the production alias.

Deploy freezes the draft as the next version and points the tenant's production alias at it; rollback
points the alias at an earlier version. Runs use the version the alias names.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from platform_.domain import Agent, AgentConfig, AgentVersion, new_id
from platform_.repository import PlatformRepository, Position
from stratus.identity import Principal


class AgentService:
    def __init__(self, repository: PlatformRepository, clock: Callable[[], float] = time.time) -> None:
        self._repository = repository
        self._clock = clock

    def create(self, principal: Principal, config: AgentConfig) -> Agent:
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        agent = Agent(
            tenant_id=principal.tenant_id,
            agent_id=new_id("a"),
            config=config,
            revision=1,
            production_version=None,
            latest_version=0,
            created_at=now,
            updated_at=now,
            created_by=principal.user_id,
        )
        self._repository.create_agent(agent)
        return agent

    def get(self, principal: Principal, agent_id: str) -> Agent:
        return self._repository.get_agent(principal.tenant_id, agent_id)

    def list_agents(
        self, principal: Principal, limit: int, position: Position | None
    ) -> tuple[list[Agent], Position | None]:
        return self._repository.list_agents(principal.tenant_id, limit, position)

    def update(self, principal: Principal, agent_id: str, config: AgentConfig) -> Agent:
        """Replace the draft; deployed versions keep the config they froze."""
        return self._repository.update_agent_config(principal.tenant_id, agent_id, config, self._clock())

    def delete(self, principal: Principal, agent_id: str) -> None:
        self._repository.delete_agent(principal.tenant_id, agent_id)

    def deploy(self, principal: Principal, agent_id: str) -> tuple[Agent, AgentVersion]:
        """Freeze the draft as the next version and move the production alias to it."""
        agent = self._repository.get_agent(principal.tenant_id, agent_id)
        number = max(agent.latest_version, self._repository.last_version(principal.tenant_id, agent_id)) + 1
        now = self._clock()
        version = AgentVersion(
            agent_id=agent_id,
            version=number,
            config=agent.config,
            revision=agent.revision,
            created_at=datetime.fromtimestamp(now, tz=UTC),
            created_by=principal.user_id,
        )
        self._repository.create_version(principal.tenant_id, version)
        moved = self._repository.set_production(principal.tenant_id, agent_id, number, latest=number, now=now)
        return moved, version

    def rollback(self, principal: Principal, agent_id: str, version: int) -> tuple[Agent, AgentVersion]:
        """Point the production alias at an existing version."""
        self._repository.get_agent(principal.tenant_id, agent_id)
        target = self._repository.get_version(principal.tenant_id, agent_id, version)
        moved = self._repository.set_production(principal.tenant_id, agent_id, version, latest=None, now=self._clock())
        return moved, target

    def versions(
        self, principal: Principal, agent_id: str, limit: int, position: Position | None
    ) -> tuple[list[AgentVersion], Position | None]:
        self._repository.get_agent(principal.tenant_id, agent_id)
        return self._repository.list_versions(principal.tenant_id, agent_id, limit, position)
