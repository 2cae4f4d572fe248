"""Metering scopes: calls inside one are recorded for its caller with call ids that repeat on redelivery."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from stratus.metering import (
    Caller,
    UsageEvent,
    metering_scope,
    record_model_usage,
    scope_context,
)

CALLER = Caller(tenant_id="acme", service="docqa", origin_id="msg-1", user_id="u1", key_id="k1")


class MemoryRecorder:
    """Keeps one event per call id, as the DynamoDB ledger does."""

    def __init__(self) -> None:
        self.events: dict[str, UsageEvent] = {}

    def record(self, event: UsageEvent) -> bool:
        if event.call_id in self.events:
            return False
        self.events[event.call_id] = event
        return True


def _call(model: str = "amazon.nova-lite-v1:0") -> UsageEvent | None:
    return record_model_usage(model=model, input_tokens=100, output_tokens=10, cost_usd=0.0000084, offline=False)


def test_a_call_outside_any_scope_is_not_recorded() -> None:
    assert _call() is None


def test_calls_in_a_scope_are_recorded_for_its_caller_in_order() -> None:
    recorder = MemoryRecorder()

    with metering_scope(CALLER, recorder):
        _call()
        _call("anthropic.claude-3-5-haiku-20241022-v1:0")

    assert len(recorder.events) == 2
    assert list(recorder.events) == ["docqa:msg-1:0", "docqa:msg-1:1"]
    first = recorder.events["docqa:msg-1:0"]
    assert (first.tenant_id, first.user_id, first.key_id, first.cost_micro_usd) == ("acme", "u1", "k1", 8)


def test_a_redelivered_message_repeating_its_calls_records_nothing_new() -> None:
    recorder = MemoryRecorder()

    for _ in range(2):
        with metering_scope(CALLER, recorder):
            _call()
            _call()

    assert len(recorder.events) == 2


def test_a_thread_started_with_the_scope_context_records_into_the_scope() -> None:
    recorder = MemoryRecorder()

    with metering_scope(CALLER, recorder), ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(contextvars.copy_context().run, _call) for _ in range(4)]
        [future.result() for future in futures]

    assert len(recorder.events) == 4
    assert sorted(recorder.events) == [f"docqa:msg-1:{n}" for n in range(4)]


def test_the_steps_of_a_stream_run_in_a_scope_context_are_recorded_while_the_caller_has_no_scope() -> None:
    # Given a stream that makes a model call per step
    recorder = MemoryRecorder()

    def stream() -> Iterator[int]:
        for n in range(3):
            _call()
            yield n

    # When each step runs in the scope's context
    context = scope_context(CALLER, recorder)
    steps = context.run(stream)
    taken = [context.run(next, steps) for _ in range(3)]

    # Then
    assert taken == [0, 1, 2]
    assert sorted(recorder.events) == ["docqa:msg-1:0", "docqa:msg-1:1", "docqa:msg-1:2"]
    assert _call() is None  # the caller itself has no scope
    assert len(recorder.events) == 3
