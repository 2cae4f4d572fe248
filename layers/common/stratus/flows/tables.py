"""Per-table PynamoDB model classes for the flows items.

Each service keeps its flow items (events, task tokens) in its own table, and on the local stack every
service shares one process: a model class can be bound to one table only, so each table gets its own
subclass of the item model.
"""

from __future__ import annotations

import threading
from typing import Any

from pynamodb.connection import Connection
from pynamodb.models import Model

from stratus.cache import per_container
from stratus.config import get_settings
from stratus.storage import bind_model

_lock = threading.Lock()
_classes: dict[tuple[type[Model], str], type[Model]] = {}


def model_for[M: Model](base: type[M], table_name: str) -> type[M]:
    """``base`` bound to ``table_name`` (region, endpoint and timeouts from settings)."""
    if not table_name:
        raise RuntimeError(f"{base.__name__}: table name is not configured")
    with _lock:
        model = _classes.get((base, table_name))
        if model is None:
            model = type(f"{base.__name__}_{len(_classes)}", (base,), {"__module__": base.__module__})
            _classes[(base, table_name)] = model
    bind_model(model, table_name)
    share_client(model)
    return model  # type: ignore[return-value]


@per_container
def _connection(region: str, host: str | None, connect_s: float, read_s: float, attempts: int) -> Connection:
    return Connection(
        region=region,
        host=host,
        connect_timeout_seconds=connect_s,
        read_timeout_seconds=read_s,
        max_retry_attempts=attempts,
    )


def transaction_connection() -> Connection:
    """The container's one PynamoDB connection: transactions need one, and every model shares its client."""
    settings = get_settings()
    return _connection(
        settings.aws_region,
        settings.aws_endpoint_url,
        settings.aws_connect_timeout_s,
        settings.aws_read_timeout_s,
        settings.aws_max_attempts,
    )


def share_client(model: type[Model]) -> None:
    """Point a bound model at the container's DynamoDB client.

    PynamoDB builds a botocore client per model class, each costing tens of milliseconds and megabytes at
    cold start; one client, thread-safe, serves them all.
    """
    connection: Any = model._get_connection().connection
    if connection._client is None:
        connection._client = transaction_connection().client
