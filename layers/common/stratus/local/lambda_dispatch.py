"""Run moto's Lambda invocations in-process against the real handlers (no Docker).

moto calls ``LambdaFunction._invoke_lambda`` for boto3 ``lambda.invoke``, Step Functions tasks,
S3 notifications, SQS event-source mappings and EventBridge targets; replacing it makes every one
of those paths run our code. Errors come back as Lambda does, so ``errorType`` drives Retry/Catch.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]

_lock = threading.Lock()
_handlers: dict[str, Handler] = {}


@dataclass
class LocalLambdaContext:
    """The attributes Powertools and our handlers read from a Lambda context."""

    function_name: str = "local"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    timeout_s: float = 900.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


def resolve_handler(handler: str) -> Handler:
    """Import ``module.function`` once (like a warm container) and return the callable."""
    with _lock:
        found = _handlers.get(handler)
        if found is None:
            module_name, attribute = handler.rsplit(".", 1)
            found = getattr(importlib.import_module(module_name), attribute)
            _handlers[handler] = found
    return found


def invoke_handler(handler: str, event: Any, *, function_name: str = "local", timeout_s: float = 900.0) -> Any:
    context = LocalLambdaContext(
        function_name=function_name,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
        timeout_s=timeout_s,
    )
    return resolve_handler(handler)(event, context)


def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
    payload = json.loads(event) if isinstance(event, (str, bytes)) and event else (event or {})
    try:
        result = invoke_handler(
            self.handler, payload, function_name=self.function_name, timeout_s=float(self.timeout or 900)
        )
    except Exception as exc:  # the Lambda runtime reports any exception as the invocation's error
        error = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_exception(exc)[-10:],
        }
        return json.dumps(error), True, ""
    return json.dumps(result, default=str), False, ""


class LambdaDispatch:
    """Install / remove the in-process dispatch on moto's Lambda backend."""

    def __init__(self) -> None:
        self._original: Any = None

    def install(self) -> None:
        from moto.awslambda.models import LambdaFunction

        if self._original is None:
            self._original = LambdaFunction._invoke_lambda
            LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from moto.awslambda.models import LambdaFunction

        if self._original is not None:
            LambdaFunction._invoke_lambda = self._original  # type: ignore[method-assign]
            self._original = None
