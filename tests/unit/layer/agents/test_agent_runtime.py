"""The agent runtime's loop: turns, tools, handoffs, budgets, stopping, and the model's JSON actions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stratus.agents import (
    AgentCancelled,
    AgentRunner,
    AgentSpec,
    Decision,
    Final,
    Handoff,
    ModelGateway,
    StepBrief,
    TaskInput,
    ToolCall,
    ToolContext,
    Turn,
    behaviour_for,
    builtin_tools,
    parse_decision,
)
from stratus.ai.types import ChatChunk, ChatRequest, ChatResult, Usage

SPEC = AgentSpec(
    name="scout", role="research", instructions="find things", tools=("read_inputs",), handoffs=("writing",)
)
INPUTS = (TaskInput("notes.md", "The canary gets 5% of traffic.\n\nRollbacks finish within two minutes."),)
BRIEF = StepBrief(
    "t1", "task-1", "How fast are rollbacks?", "How fast are rollbacks?", INPUTS, team=("scout", "writing")
)


class ScriptedModel:
    """A chat model that replies with the given texts in turn, 100 tokens per call."""

    provider = "openai"
    model_id = "gpt-4o-mini"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.requests: list[ChatRequest] = []

    def generate(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        usage = Usage(
            input_tokens=80,
            output_tokens=20,
            cost_usd=0.0001,
            model=self.model_id,
            provider="openai",
            offline=False,
            latency_ms=1.0,
        )
        return ChatResult(text=self.replies.pop(0), usage=usage)

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        raise NotImplementedError


class Budget:
    def __init__(self, tokens: int) -> None:
        self.tokens = tokens

    def remaining(self) -> int:
        return self.tokens

    def charge(self, usage: Usage) -> None:
        self.tokens -= usage.input_tokens + usage.output_tokens


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, data))


def run(
    model: ScriptedModel, *, budget: int = 10_000, max_turns: int = 4, spec: AgentSpec = SPEC, stop: bool = False
) -> tuple[Any, Recorder]:
    events = Recorder()
    tools = builtin_tools()
    gateway = ModelGateway(model, Budget(budget), events)
    outcome = AgentRunner(tools, max_turns=max_turns).run(
        spec,
        BRIEF,
        behaviour_for(spec, model.provider, tools),
        gateway,
        emit=events,
        tool_context=ToolContext("t1", "task-1", INPUTS),
        should_stop=lambda: stop,
    )
    return outcome, events


def test_a_model_calls_a_tool_then_answers_from_what_it_returned() -> None:
    # Given a model that searches the inputs, then answers
    model = ScriptedModel(
        '{"tool": "read_inputs", "args": {"query": "rollback minutes"}}',
        'Here you go: {"final": "Rollbacks finish within two minutes [1]."}',
    )

    # When the agent runs
    outcome, events = run(model)

    # Then the answer is the model's, the tool's passages reached the model, and every decision is recorded
    assert outcome.text == "Rollbacks finish within two minutes [1]."
    assert outcome.stopped == "final" and outcome.turns == 2 and outcome.tool_calls == 1
    assert (
        "Result of read_inputs:\n[1] (notes.md) Rollbacks finish within two minutes."
        in model.requests[1].messages[-1].content
    )
    assert [kind for kind, _ in events.events] == ["agent.model_call", "agent.tool_call", "agent.model_call"]
    tool_event = events.events[1][1]
    assert tool_event["tool"] == "read_inputs" and tool_event["summary"] == "1 passage(s) from the task's inputs"
    assert outcome.usage.as_dict() == {
        "input_tokens": 160,
        "output_tokens": 40,
        "cost_usd": 0.0002,
        "model_calls": 2,
        "offline": False,
        "models": ["gpt-4o-mini"],
    }


def test_tools_the_agent_does_not_have_and_bad_arguments_cost_a_turn_not_the_step() -> None:
    model = ScriptedModel(
        '{"tool": "check_python", "args": {"code": "x"}}',
        '{"tool": "read_inputs", "args": {"k": 500}}',
        '{"final": "done"}',
    )

    outcome, events = run(model)

    tool_events = [data for kind, data in events.events if kind == "agent.tool_call"]
    assert [(e["tool"], e["error"], e["summary"]) for e in tool_events] == [
        ("check_python", True, "tool not available"),
        ("read_inputs", True, "invalid arguments"),
    ]
    assert "query: Field required" in model.requests[2].messages[-1].content
    assert outcome.text == "done"


def test_handoffs_go_only_to_allowed_agents_on_the_team() -> None:
    refused, events = run(
        ScriptedModel('{"handoff": "code_review", "note": "x"}', '{"handoff": "writing", "note": "draft it"}')
    )

    assert refused.stopped == "handoff" and refused.handoff == Handoff("writing", "draft it")
    assert [(d["to"], d["allowed"]) for k, d in events.events if k == "agent.handoff"] == [
        ("code_review", False),
        ("writing", True),
    ]


def test_turns_and_budget_are_bounded_and_the_agent_still_answers_with_what_it_has() -> None:
    looping = ScriptedModel(*['{"tool": "read_inputs", "args": {"query": "canary"}}'] * 3)
    outcome, _ = run(looping, max_turns=3)
    assert outcome.stopped == "max_turns" and outcome.turns == 3
    assert "5% of traffic" in outcome.text

    # A budget spent by the first call stops before the second: no call is made past it
    broke = ScriptedModel('{"tool": "read_inputs", "args": {"query": "canary"}}', '{"final": "never"}')
    outcome, _ = run(broke, budget=100)
    assert outcome.stopped == "budget" and len(broke.requests) == 1
    assert outcome.text.startswith("Stopped (budget) before a final answer.")


def test_a_cancelled_task_stops_the_loop() -> None:
    with pytest.raises(AgentCancelled):
        run(ScriptedModel('{"final": "x"}'), stop=True)


@pytest.mark.parametrize(
    ("reply", "decision"),
    [
        ('{"tool": "read_inputs", "args": {"query": "q"}}', ToolCall("read_inputs", {"query": "q"}, "model's choice")),
        ('```json\n{"handoff": "writing", "note": "go"}\n```', Handoff("writing", "go")),
        ('{"final": "# Title"}', Final("# Title")),
        ("Just prose, no JSON.", Final("Just prose, no JSON.")),
        ('{"tool": 3}', Final('{"tool": 3}')),
        ("{not json}", Final("{not json}")),
    ],
)
def test_model_replies_become_actions_and_anything_else_is_the_answer(reply: str, decision: Decision) -> None:
    assert parse_decision(reply) == decision


class Boom:
    def decide(self, turn: Turn) -> Decision:
        raise RuntimeError("boom")

    def conclude(self, turn: Turn, reason: str) -> Final:
        return Final("")


def test_an_override_replaces_a_roles_behaviour_until_restored() -> None:
    from stratus.agents import override_behaviour

    restore = override_behaviour("research", Boom)
    try:
        assert isinstance(behaviour_for(SPEC, "offline", builtin_tools()), Boom)
    finally:
        restore()
    assert not isinstance(behaviour_for(SPEC, "offline", builtin_tools()), Boom)
