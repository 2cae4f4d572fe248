"""Agents: specifications, tools, and the bounded tool-calling loop over the chat-model port.

- `AgentSpec`, `BUILTIN_AGENTS`, `DEFAULT_TEAM` — who the agents are and how tenant agents are validated;
- `ToolRegistry`, `builtin_tools` — what agents may call (document search, input search, Python checks);
- `AgentRunner`, `ModelGateway`, `StepBrief` — one agent step: turns, budget, audit events;
- `behaviour_for` — a real model's JSON actions, or each role's offline behaviour.

The package loads its modules on first use: the API reads specs and tool names without importing the
model runtime (chat port, static checks, search), which only agent steps need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stratus.agents.behaviours import (
        behaviour_for,
        chat_model_for,
        override_behaviour,
        parse_decision,
    )
    from stratus.agents.code_checks import (
        CheckReport,
        CodeBlock,
        Finding,
        check_python,
        code_blocks,
    )
    from stratus.agents.previews import (
        excerpt,
    )
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
    )
    from stratus.agents.sources import (
        Source,
        TaskInput,
        search_inputs,
    )
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
    from stratus.agents.tools import (
        Tool,
        ToolContext,
        ToolOutput,
        ToolRegistry,
        builtin_tools,
    )

_MODULE_OF = {
    "behaviour_for": "behaviours",
    "chat_model_for": "behaviours",
    "override_behaviour": "behaviours",
    "parse_decision": "behaviours",
    "CheckReport": "code_checks",
    "CodeBlock": "code_checks",
    "Finding": "code_checks",
    "check_python": "code_checks",
    "code_blocks": "code_checks",
    "excerpt": "previews",
    "AgentCancelled": "runtime",
    "AgentOutcome": "runtime",
    "AgentRunner": "runtime",
    "Behaviour": "runtime",
    "BudgetExhausted": "runtime",
    "Decision": "runtime",
    "EventSink": "runtime",
    "Final": "runtime",
    "Handoff": "runtime",
    "ModelGateway": "runtime",
    "Observation": "runtime",
    "StepBrief": "runtime",
    "TokenBudget": "runtime",
    "ToolCall": "runtime",
    "Turn": "runtime",
    "UsageTotals": "runtime",
    "Source": "sources",
    "TaskInput": "sources",
    "search_inputs": "sources",
    "BUILTIN_AGENTS": "specs",
    "DEFAULT_MODEL": "specs",
    "DEFAULT_TEAM": "specs",
    "ROLES": "specs",
    "AgentSpec": "specs",
    "Role": "specs",
    "known_models": "specs",
    "validate_spec": "specs",
    "validate_team": "specs",
    "Tool": "tools",
    "ToolContext": "tools",
    "ToolOutput": "tools",
    "ToolRegistry": "tools",
    "builtin_tools": "tools",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'stratus.agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"stratus.agents.{module}"), name)
    globals()[name] = value
    return value
