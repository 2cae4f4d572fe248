"""Who a model call is made for, so the one place that sees every call (``stratus.ai``) can meter it.

An entry point opens a `metering_scope` with the `Caller` (tenant, service, user, key) and the id of what
caused the work (an API request id, an SQS message id, a Step Functions execution and state). Each model call
recorded in the scope gets the call id ``<service>:<origin id>:<n>`` (n counts the scope's calls in order),
so a redelivered message that repeats its calls records nothing new.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import Context, ContextVar, copy_context
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stratus.metering.events import UsageEvent, micro_usd
from stratus.metering.ledger import UsageRecorder, get_usage_ledger


@dataclass(frozen=True, slots=True)
class Caller:
    tenant_id: str
    service: str
    origin_id: str
    user_id: str | None = None
    key_id: str | None = None


@dataclass
class _Scope:
    caller: Caller
    recorder: UsageRecorder | None
    ordinals: Iterator[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)


_current: ContextVar[_Scope | None] = ContextVar("stratus_metering_scope", default=None)


@contextmanager
def metering_scope(caller: Caller, recorder: UsageRecorder | None = None) -> Iterator[None]:
    """Model calls inside are metered for ``caller`` (threads started with a copied context included)."""
    token = _current.set(_Scope(caller, recorder))
    try:
        yield
    finally:
        _current.reset(token)


def enter_scope(caller: Caller, recorder: UsageRecorder | None = None) -> None:
    """Meter the rest of the current context for ``caller``: for work whose context ends with it (an ASGI request).

    A request runs in its own task (a copied context), so the scope ends with the request; threads and stream
    steps started from it copy the context and share the scope (and its call numbering).
    """
    _current.set(_Scope(caller, recorder))


def scope_context(caller: Caller, recorder: UsageRecorder | None = None) -> Context:
    """A copy of the current context holding a scope for ``caller``: run each step with ``context.run(...)``.

    For work that yields between steps (a stream): a generator cannot keep a ``metering_scope`` open across
    its yields, but it can run every step in this context.
    """
    context = copy_context()
    context.run(_current.set, _Scope(caller, recorder))
    return context


def record_model_usage(
    *, model: str, input_tokens: int, output_tokens: int, cost_usd: float, offline: bool
) -> UsageEvent | None:
    """Record one model call for the current scope's caller; None outside a scope (nothing to bill)."""
    scope = _current.get()
    if scope is None:
        return None
    with scope.lock:
        ordinal = next(scope.ordinals)
    caller = scope.caller
    event = UsageEvent(
        call_id=f"{caller.service}:{caller.origin_id}:{ordinal}",
        tenant_id=caller.tenant_id,
        service=caller.service,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_micro_usd=micro_usd(cost_usd),
        occurred_at=datetime.now(UTC),
        key_id=caller.key_id,
        user_id=caller.user_id,
        offline=offline,
    )
    (scope.recorder or get_usage_ledger()).record(event)
    return event
