"""Agents: specifications, tools, and the bounded tool-calling loop over the chat-model port.

- `AgentSpec`, `BUILTIN_AGENTS`, `DEFAULT_TEAM` — who the agents are and how tenant agents are validated;
- `ToolRegistry`, `builtin_tools` — what agents may call (document search, input search, Python checks);
- `AgentRunner`, `ModelGateway`, `StepBrief` — one agent step: turns, budget, audit events;
- `behaviour_for` — a real model's JSON actions, or each role's offline behaviour.
"""

from stratus.agents.behaviours import behaviour_for, chat_model_for, override_behaviour, parse_decision
from stratus.agents.code_checks import CheckReport, CodeBlock, Finding, check_python, code_blocks
from stratus.agents.runtime import (
    AgentCancelled,
    AgentOutcome,
    AgentRunner,
    Behaviour,
    BudgetExhausted,
    Decision,
    EventSink,
    Final,
    Handoff,
    ModelGateway,
    Observation,
    StepBrief,
    TokenBudget,
    ToolCall,
    Turn,
    UsageTotals,
    excerpt,
)
from stratus.agents.sources import Source, TaskInput, search_inputs
from stratus.agents.specs import (
    BUILTIN_AGENTS,
    DEFAULT_MODEL,
    DEFAULT_TEAM,
    ROLES,
    AgentSpec,
    Role,
    known_models,
    validate_spec,
    validate_team,
)
from stratus.agents.tools import Tool, ToolContext, ToolOutput, ToolRegistry, builtin_tools

__all__ = [
    "BUILTIN_AGENTS",
    "DEFAULT_MODEL",
    "DEFAULT_TEAM",
    "ROLES",
    "AgentCancelled",
    "AgentOutcome",
    "AgentRunner",
    "AgentSpec",
    "Behaviour",
    "BudgetExhausted",
    "CheckReport",
    "CodeBlock",
    "Decision",
    "EventSink",
    "Final",
    "Finding",
    "Handoff",
    "ModelGateway",
    "Observation",
    "Role",
    "Source",
    "StepBrief",
    "TaskInput",
    "TokenBudget",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolOutput",
    "ToolRegistry",
    "Turn",
    "UsageTotals",
    "behaviour_for",
    "builtin_tools",
    "chat_model_for",
    "check_python",
    "code_blocks",
    "excerpt",
    "known_models",
    "override_behaviour",
    "parse_decision",
    "search_inputs",
    "validate_spec",
    "validate_team",
]
