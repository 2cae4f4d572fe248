"""One Powertools Logger / Metrics setup shared by every function.

Service name, log level and namespace come from the Powertools environment variables that
template.yaml sets in Globals; correlation ids come from the API Gateway request id or the
caller's ``X-Request-Id``. Tracing is X-Ray's service segments only (``Tracing: Active`` in
template.yaml): no Powertools Tracer, no patched SDKs, so no subsegments are claimed that nobody records.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

__all__ = [
    "MetricUnit",
    "instrument_handler",
    "logger",
    "metrics",
    "record_latency",
    "set_correlation_id",
]

logger = Logger(utc=True)
metrics = Metrics()


def set_correlation_id(correlation_id: str | None) -> None:
    logger.set_correlation_id(correlation_id)


@contextmanager
def record_latency(metric_name: str) -> Iterator[None]:
    """Emit ``metric_name`` in milliseconds as an EMF metric when the block ends."""
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics.add_metric(name=metric_name, unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000)


LambdaHandler = Callable[[Any, Any], Any]

# Most invocations (reads, health checks) record no metric; Powertools would warn on every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

# API Gateway (HTTP and WebSocket) carries a request id; SQS, Step Functions and schedules do not.
_CORRELATION_ID_PATH = "requestContext.requestId"


def instrument_handler(handler: LambdaHandler) -> LambdaHandler:
    """Every Lambda entry point: Logger context with the correlation id, metrics flushed per invocation.

    Model usage (tokens, cost, latency) is added as metrics during the call; ``log_metrics`` writes them
    as one EMF document when the invocation ends, so nothing stays buffered in a warm container.
    """

    @metrics.log_metrics
    @logger.inject_lambda_context(correlation_id_path=_CORRELATION_ID_PATH, clear_state=True)
    @functools.wraps(handler)
    def instrumented(event: Any, context: Any) -> Any:
        return handler(event, context)

    return instrumented
