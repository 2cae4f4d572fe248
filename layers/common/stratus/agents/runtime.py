"""The agent runtime: a bounded tool-calling loop over the chat-model port, with token budgets and an audit trail.

Each turn a `Behaviour` decides: call a tool, hand off to another agent, or give the final answer.
Model calls go through the `ModelGateway`, which enforces the token budget and records every call
(model, tokens, cost, latency, what was asked and answered). The loop stops at the final answer, a
handoff, ``max_turns``, an exhausted budget, or when the flow asks it to stop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from stratus.agents.previews import excerpt
from stratus.agents.sources import TaskInput
from stratus.agents.specs import AgentSpec
from stratus.agents.tools import ToolContext, ToolOutput, ToolRegistry
from stratus.ai.ports import ChatModel
from stratus.ai.types import ChatRequest, ChatResult, Usage

__all__ = [
    "AgentCancelled",
    "AgentOutcome",
    "AgentRunner",
    "Behaviour",
    "BudgetExhausted",
    "Decision",
    "EventSink",
    "Final",
    "Handoff",
    "ModelGateway",
    "Observation",
    "StepBrief",
    "TokenBudget",
    "ToolCall",
    "Turn",
    "UsageTotals",
    "excerpt",
]

EventSink = Callable[[str, dict[str, Any]], None]
StopReason = Literal["final", "handoff", "max_turns", "budget"]


class BudgetExhausted(Exception):
    """The task's token budget is spent: no further model call is made."""


class AgentCancelled(Exception):
    """The task was cancelled while the agent worked."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    tool: str
    arguments: dict[str, Any]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Final:
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Handoff:
    agent: str
    note: str


Decision = ToolCall | Final | Handoff


@dataclass(frozen=True, slots=True)
class Observation:
    call: ToolCall
    output: ToolOutput


@dataclass(frozen=True, slots=True)
class StepBrief:
    """What one agent step is asked to do, and what the earlier steps of the task produced."""

    tenant_id: str
    task_id: str
    goal: str
    question: str
    inputs: tuple[TaskInput, ...] = ()
    research: tuple[dict[str, Any], ...] = ()
    reviews: tuple[dict[str, Any], ...] = ()
    feedback: tuple[str, ...] = ()
    critique: tuple[str, ...] = ()
    team: tuple[str, ...] = ()


class TokenBudget(Protocol):
    def remaining(self) -> int:
        """Tokens left for the whole task (input + output)."""
        ...

    def charge(self, usage: Usage) -> None: ...


@dataclass
class UsageTotals:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    offline: bool = False
    models: set[str] = field(default_factory=set)

    def add(self, usage: Usage) -> None:
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cost_usd += usage.cost_usd
        self.model_calls += 1
        self.offline = self.offline or usage.offline
        self.models.add(usage.model)

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "model_calls": self.model_calls,
            "offline": self.offline,
            "models": sorted(self.models),
        }


class ModelGateway:
    """The only way an agent reaches the chat model: budget first, then the call, then the record."""

    def __init__(self, model: ChatModel, budget: TokenBudget, emit: EventSink) -> None:
        self._model = model
        self._budget = budget
        self._emit = emit
        self.usage = UsageTotals()

    @property
    def provider(self) -> str:
        return self._model.provider

    def generate(self, request: ChatRequest, *, why: str) -> ChatResult:
        remaining = self._budget.remaining()
        if remaining <= 0:
            raise BudgetExhausted("the task's token budget is spent")
        if request.max_tokens > remaining:
            request = request.model_copy(update={"max_tokens": max(1, remaining)})
        result = self._model.generate(request)
        self._budget.charge(result.usage)
        self.usage.add(result.usage)
        self._emit(
            "agent.model_call",
            {
                "why": why,
                "purpose": request.purpose,
                "model": result.usage.model,
                "provider": result.usage.provider,
                "offline": result.usage.offline,
                "input_tokens": result.usage.input_tokens,
                "output_tokens": result.usage.output_tokens,
                "cost_usd": round(result.usage.cost_usd, 6),
                "latency_ms": round(result.usage.latency_ms, 1),
                "prompt": excerpt(request.question),
                "passages": len(request.passages),
                "output": excerpt(result.text),
                "citations": list(result.citations),
            },
        )
        return result


@dataclass(frozen=True, slots=True)
class Turn:
    """What a behaviour sees when it decides: who it is, what it was asked, and what its tools returned."""

    spec: AgentSpec
    brief: StepBrief
    observations: tuple[Observation, ...]
    number: int
    max_turns: int
    gateway: ModelGateway

    def outputs_of(self, tool: str) -> list[ToolOutput]:
        return [o.output for o in self.observations if o.call.tool == tool and not o.output.error]


class Behaviour(Protocol):
    def decide(self, turn: Turn) -> Decision: ...

    def conclude(self, turn: Turn, reason: str) -> Final:
        """The answer from what was gathered so far, without a model call (turns or budget ran out)."""
        ...


@dataclass(frozen=True, slots=True)
class AgentOutcome:
    text: str
    data: dict[str, Any]
    usage: UsageTotals
    turns: int
    tool_calls: int
    stopped: StopReason
    handoff: Handoff | None = None


class AgentRunner:
    def __init__(self, tools: ToolRegistry, *, max_turns: int) -> None:
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        self._tools = tools
        self._max_turns = max_turns

    def run(
        self,
        spec: AgentSpec,
        brief: StepBrief,
        behaviour: Behaviour,
        gateway: ModelGateway,
        *,
        emit: EventSink,
        tool_context: ToolContext,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> AgentOutcome:
        observations: list[Observation] = []
        turn = Turn(spec, brief, (), 1, self._max_turns, gateway)
        for number in range(1, self._max_turns + 1):
            if should_stop():
                raise AgentCancelled(f"task {brief.task_id} was cancelled")
            turn = Turn(spec, brief, tuple(observations), number, self._max_turns, gateway)
            try:
                decision = behaviour.decide(turn)
            except BudgetExhausted:
                return self._concluded(behaviour, turn, "budget", gateway, observations)
            if isinstance(decision, Final):
                return AgentOutcome(decision.text, decision.data, gateway.usage, number, len(observations), "final")
            if isinstance(decision, Handoff):
                allowed = decision.agent in spec.handoffs and decision.agent in brief.team
                emit("agent.handoff", {"turn": number, "to": decision.agent, "note": decision.note, "allowed": allowed})
                if allowed:
                    text = f"Handed off to {decision.agent}: {decision.note}"
                    return AgentOutcome(
                        text, {"handoff": decision.agent}, gateway.usage, number, len(observations), "handoff", decision
                    )
                refusal = ToolOutput(
                    f"handoff to {decision.agent} is not allowed: {spec.name} may hand off to "
                    f"{', '.join(a for a in spec.handoffs if a in brief.team) or 'no agent on this team'}",
                    "handoff refused",
                    error=True,
                )
                observations.append(Observation(ToolCall("handoff", {"agent": decision.agent}), refusal))
                continue
            observations.append(self._call_tool(spec, decision, number, emit, tool_context))
        return self._concluded(behaviour, turn, "max_turns", gateway, observations)

    def _call_tool(
        self, spec: AgentSpec, call: ToolCall, number: int, emit: EventSink, context: ToolContext
    ) -> Observation:
        tool = self._tools.get(call.tool) if call.tool in spec.tools else None
        if tool is None:
            output = ToolOutput(
                f"tool {call.tool!r} is not available to {spec.name}; its tools are {', '.join(spec.tools) or 'none'}",
                "tool not available",
                error=True,
            )
            elapsed = 0.0
        else:
            output, elapsed = tool.call(context, call.arguments)
        emit(
            "agent.tool_call",
            {
                "turn": number,
                "tool": call.tool,
                "arguments": _short_arguments(call.arguments),
                "reason": call.reason,
                "summary": output.summary,
                "error": output.error,
                "duration_ms": round(elapsed, 1),
                "output": excerpt(output.content),
            },
        )
        return Observation(call, output)

    @staticmethod
    def _concluded(
        behaviour: Behaviour, turn: Turn, reason: StopReason, gateway: ModelGateway, observations: list[Observation]
    ) -> AgentOutcome:
        final = behaviour.conclude(replace(turn, observations=tuple(observations)), reason)
        return AgentOutcome(final.text, final.data, gateway.usage, turn.number, len(observations), reason)


def _short_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {key: excerpt(value, 200) if isinstance(value, str) else value for key, value in arguments.items()}
