"""Long-running flows on Step Functions: the client, task tokens, and progress events with replay.

Shared by every service that runs a Step Functions flow (orchestrator, research, swarm):
- `StepFunctions` — start / describe / stop executions and answer task tokens, with the retry policy;
- `TaskTokenStore` — the tokens of ``.waitForTaskToken`` states until someone answers them;
- `ProgressLog` — events stored with gapless sequence numbers, published in order to the run's
  realtime topic, replayable with ``after=N``.
"""

from stratus.flows.progress import EventPublisher, ProgressEvent, ProgressLog
from stratus.flows.stepfunctions import ExecutionInfo, ExecutionStatus, StepFunctions
from stratus.flows.tokens import TaskTokenStore, WaitingToken

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
