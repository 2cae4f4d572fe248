"""Long-running flows on Step Functions: the client, task tokens, and progress events with replay.

Shared by every service that runs a Step Functions flow (orchestrator, research, swarm):
- `StepFunctions` — start / describe / stop executions and answer task tokens, with the retry policy;
- `TaskTokenStore` — the tokens of ``.waitForTaskToken`` states until someone answers them;
- `ProgressLog` — events stored with gapless sequence numbers, published in order to the run's
  realtime topic, replayable with ``after=N``.

Modules load on first use, so importing one of them (or this package) stays cheap at cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stratus.flows.progress import EventPublisher, ProgressEvent, ProgressLog
    from stratus.flows.stepfunctions import ExecutionInfo, ExecutionStatus, StepFunctions
    from stratus.flows.tokens import TaskTokenStore, WaitingToken

_MODULE_OF = {
    "EventPublisher": "progress",
    "ProgressEvent": "progress",
    "ProgressLog": "progress",
    "ExecutionInfo": "stepfunctions",
    "ExecutionStatus": "stepfunctions",
    "StepFunctions": "stepfunctions",
    "TaskTokenStore": "tokens",
    "WaitingToken": "tokens",
}

__all__ = [
    "EventPublisher",
    "ExecutionInfo",
    "ExecutionStatus",
    "ProgressEvent",
    "ProgressLog",
    "StepFunctions",
    "TaskTokenStore",
    "WaitingToken",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'stratus.flows' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"stratus.flows.{module}"), name)
    globals()[name] = value
    return value
