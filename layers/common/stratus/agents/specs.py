"""Agent specifications: the built-in team and the rules every tenant-registered agent must satisfy."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from stratus.errors import ValidationFailed

__all__ = [
    "BUILTIN_AGENTS",
    "DEFAULT_MODEL",
    "DEFAULT_TEAM",
    "ROLES",
    "AgentSpec",
    "Role",
    "known_models",
    "validate_spec",
    "validate_team",
]

Role = Literal["research", "writing", "code_review", "general"]
ROLES: Final[tuple[Role, ...]] = ("research", "writing", "code_review", "general")
DEFAULT_MODEL: Final = "default"
NAME_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
MAX_TEAM: Final = 10


class AgentSpec(BaseModel):
    """What an agent is: its role decides what it does offline; instructions steer a real model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="lowercase letters, digits, '-' and '_', 2-40 characters")
    role: Role
    instructions: str = Field(min_length=1, max_length=4000)
    model: str = Field(default=DEFAULT_MODEL, description="'default' (the configured provider) or a model id")
    tools: tuple[str, ...] = ()
    handoffs: tuple[str, ...] = Field(default=(), description="agents this one may hand its work to")
    builtin: bool = False


BUILTIN_AGENTS: Final[Mapping[str, AgentSpec]] = {
    spec.name: spec
    for spec in (
        AgentSpec(
            name="research",
            role="research",
            instructions=(
                "Find what the tenant's documents and the task's inputs say about the question. Search first, "
                "then answer with short notes, each citing the passage it comes from as [n]. Never state "
                "anything the passages do not support; say plainly when nothing relevant was found."
            ),
            tools=("search_documents", "read_inputs"),
            handoffs=("writing",),
            builtin=True,
        ),
        AgentSpec(
            name="code_review",
            role="code_review",
            instructions=(
                "Review the code the task contains. Run the static checks on every snippet, then report each "
                "problem with its file, line and rule, most severe first, and say what to change."
            ),
            tools=("check_python",),
            handoffs=("writing",),
            builtin=True,
        ),
        AgentSpec(
            name="writing",
            role="writing",
            instructions=(
                "Write the deliverable for the goal from the research notes and the code review: a summary, "
                "the findings with their citations, the review results, and how reviewer feedback was addressed."
            ),
            handoffs=("research",),
            builtin=True,
        ),
    )
}
DEFAULT_TEAM: Final[tuple[str, ...]] = ("research", "code_review", "writing")


def known_models() -> list[str]:
    """Chat model ids an agent may name: every priced chat model (embedding models excluded)."""
    from stratus.ai.prices import PRICES

    return sorted(model for model in PRICES if "embed" not in model)


def validate_spec(spec: AgentSpec, *, known_agents: Collection[str], tools: Collection[str]) -> None:
    """422 naming the field, when a tenant's agent cannot be registered as given."""
    if not NAME_PATTERN.fullmatch(spec.name):
        raise ValidationFailed(
            "agent name must be 2-40 lowercase letters, digits, '-' or '_', starting with a letter", field="name"
        )
    if spec.model != DEFAULT_MODEL and spec.model not in known_models():
        raise ValidationFailed(
            f"unknown model {spec.model!r}: use 'default' or one of {', '.join(known_models())}", field="model"
        )
    unknown_tools = sorted(set(spec.tools) - set(tools))
    if unknown_tools:
        raise ValidationFailed(
            f"unknown tool(s) {', '.join(unknown_tools)}: available tools are {', '.join(sorted(tools))}",
            field="tools",
        )
    if len(set(spec.tools)) != len(spec.tools):
        raise ValidationFailed("a tool is listed twice", field="tools")
    if spec.name in spec.handoffs:
        raise ValidationFailed("an agent cannot hand off to itself", field="handoffs")
    unknown_agents = sorted(set(spec.handoffs) - set(known_agents))
    if unknown_agents:
        raise ValidationFailed(
            f"handoff to unknown agent(s) {', '.join(unknown_agents)}: an agent may only hand off to registered agents",
            field="handoffs",
        )


def validate_team(team: Collection[str], *, known_agents: Collection[str]) -> None:
    if not team:
        raise ValidationFailed("a task needs at least one agent", field="agents")
    if len(team) > MAX_TEAM:
        raise ValidationFailed(f"a task may use at most {MAX_TEAM} agents", field="agents")
    names = list(team)
    if len(set(names)) != len(names):
        raise ValidationFailed("an agent is listed twice", field="agents")
    unknown = [name for name in names if name not in known_agents]
    if unknown:
        raise ValidationFailed(
            f"unknown agent(s) {', '.join(unknown)}: register them with POST /orchestrator/agents first",
            field="agents",
        )
