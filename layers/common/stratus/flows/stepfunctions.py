"""Step Functions for flows: start, describe, stop, and answer task tokens.

Transient failures (throttling, timeouts, 5xx) are retried by the project's retry policy and end as
``RetriesExhausted`` (503); other failures become ``UpstreamFailed`` (502) naming the operation.
Answers to a token that is gone (timed out, already answered, execution ended) return False.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from stratus import aws
from stratus.errors import Conflict, UpstreamFailed, UpstreamUnavailable
from stratus.retry import RetryPolicy

__all__ = ["ExecutionInfo", "ExecutionStatus", "StepFunctions"]

T = TypeVar("T")
ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]

_TRANSIENT = {
    "ThrottlingException",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalServerError",
    "InternalFailure",
    "RequestTimeout",
    "RequestTimeoutException",
}
_TOKEN_GONE = frozenset({"TaskDoesNotExist", "InvalidToken", "TaskTimedOut"})
_EXECUTION_GONE = frozenset({"ExecutionDoesNotExist"})


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    arn: str
    status: ExecutionStatus
    started_at: datetime | None
    stopped_at: datetime | None
    error: str | None
    cause: str | None

    @property
    def running(self) -> bool:
        return self.status == "RUNNING"


class _Gone(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class StepFunctions:
    def __init__(self, client: Any | None = None, policy: RetryPolicy | None = None) -> None:
        self._client = client
        self._policy = policy or RetryPolicy(max_attempts=3, base_delay_s=0.2, max_delay_s=2.0)

    @property
    def client(self) -> Any:
        if self._client is None:
            # This class retries with the project's policy; botocore must not retry underneath it (one retry layer).
            self._client = aws.client("stepfunctions", max_attempts=1)
        return self._client

    def _call(self, operation: str, call: Callable[[], T], gone: frozenset[str] = frozenset()) -> T:
        from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
        from botocore.exceptions import ConnectionError as BotoConnectionError

        def attempt() -> T:
            try:
                return call()
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                message = str(exc.response.get("Error", {}).get("Message", ""))
                if code in gone:
                    raise _Gone(code) from exc
                if code in _TRANSIENT or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
                    raise UpstreamUnavailable(f"Step Functions {operation}: {code}") from exc
                if code == "ExecutionAlreadyExists":
                    raise Conflict(f"Step Functions {operation}: {message}") from exc
                raise UpstreamFailed(f"Step Functions {operation} failed: {code}: {message}") from exc
            except (BotoConnectionError, ReadTimeoutError) as exc:
                raise UpstreamUnavailable(f"Step Functions {operation}: {type(exc).__name__}") from exc
            except BotoCoreError as exc:
                raise UpstreamFailed(f"Step Functions {operation} failed: {exc}") from exc

        return self._policy.call(f"Step Functions {operation}", attempt)

    def start_execution(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start (idempotently: the same name and input returns the running execution) and return its ARN."""
        response = self._call(
            "StartExecution",
            lambda: self.client.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload, sort_keys=True)
            ),
        )
        return str(response["executionArn"])

    def describe(self, execution_arn: str) -> ExecutionInfo | None:
        try:
            data = self._call(
                "DescribeExecution",
                lambda: self.client.describe_execution(executionArn=execution_arn),
                gone=_EXECUTION_GONE,
            )
        except _Gone:
            return None
        return ExecutionInfo(
            arn=execution_arn,
            status=data["status"],
            started_at=data.get("startDate"),
            stopped_at=data.get("stopDate"),
            error=data.get("error"),
            cause=data.get("cause"),
        )

    def stop(self, execution_arn: str, *, error: str, cause: str) -> bool:
        """Stop a running execution; False when it does not exist."""
        try:
            self._call(
                "StopExecution",
                lambda: self.client.stop_execution(executionArn=execution_arn, error=error, cause=cause[:32768]),
                gone=_EXECUTION_GONE,
            )
        except _Gone:
            return False
        return True

    def send_success(self, token: str, output: dict[str, Any]) -> bool:
        try:
            self._call(
                "SendTaskSuccess",
                lambda: self.client.send_task_success(taskToken=token, output=json.dumps(output)),
                gone=_TOKEN_GONE,
            )
        except _Gone:
            return False
        return True

    def send_failure(self, token: str, *, error: str, cause: str) -> bool:
        try:
            self._call(
                "SendTaskFailure",
                lambda: self.client.send_task_failure(taskToken=token, error=error[:256], cause=cause[:32768]),
                gone=_TOKEN_GONE,
            )
        except _Gone:
            return False
        return True

    def heartbeat(self, token: str) -> bool:
        try:
            self._call("SendTaskHeartbeat", lambda: self.client.send_task_heartbeat(taskToken=token), gone=_TOKEN_GONE)
        except _Gone:
            return False
        return True
