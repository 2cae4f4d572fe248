"""PynamoDB base for tables whose partition key always starts with the tenant."""

from __future__ import annotations

import re
import threading
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model

from stratus.cache import on_reset, per_container
from stratus.config import get_settings
from stratus.errors import ValidationFailed

_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KEY_SEPARATOR = "#"


def validate_tenant_id(tenant_id: str) -> str:
    if not _TENANT_ID.fullmatch(tenant_id):
        raise ValidationFailed("tenant id must be 1-63 lowercase letters, digits or '-'", field="tenant_id")
    return tenant_id


def tenant_key(tenant_id: str, *parts: str) -> str:
    """``<tenant>#part#part``: every stored key is led by its tenant, so a query can never cross tenants."""
    validate_tenant_id(tenant_id)
    return KEY_SEPARATOR.join((tenant_id, *parts))


class TenantModel(Model):
    """Base of every table item: ``pk`` is ``<tenant>#<kind>…``, ``sk`` orders items within it."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)

    @property
    def tenant_id(self) -> str:
        return self.pk.split(KEY_SEPARATOR, 1)[0]


_bound: list[type[Model]] = []
_lock = threading.Lock()
_per_table: dict[tuple[type[Model], str], type[Model]] = {}


def _unbind_all() -> None:
    for model in _bound:
        model.Meta._stratus_binding = None  # type: ignore[attr-defined]
        model._connection = None


on_reset(_unbind_all)


@per_container
def _container_connection(region: str, host: str | None, connect_s: float, read_s: float, attempts: int) -> Connection:
    return Connection(
        region=region,
        host=host,
        connect_timeout_seconds=connect_s,
        read_timeout_seconds=read_s,
        max_retry_attempts=attempts,
    )


def container_connection() -> Connection:
    """The container's one PynamoDB connection: every bound model shares its DynamoDB client (and transactions
    can use it)."""
    settings = get_settings()
    return _container_connection(
        settings.aws_region,
        settings.aws_endpoint_url,
        settings.aws_connect_timeout_s,
        settings.aws_read_timeout_s,
        settings.aws_max_attempts,
    )


def _table_class[M: Model](model: type[M], table_name: str) -> type[M]:
    with _lock:
        bound = _per_table.get((model, table_name))
        if bound is None:
            bound = type(f"{model.__name__}_{len(_per_table)}", (model,), {"__module__": model.__module__})
            _per_table[(model, table_name)] = bound
    return bound  # type: ignore[return-value]


def bind_model[M: Model](model: type[M], table_name: str, *, per_table: bool = False) -> type[M]:
    """Point a model at its table, region, endpoint and timeouts from settings (once per container).

    Every bound model shares the container's one DynamoDB client: PynamoDB would build a botocore client per
    model class, each costing tens of milliseconds and megabytes at cold start. With ``per_table`` the
    binding goes to a subclass made for ``table_name`` (and returned), so one item class can live in several
    tables of one process (the layer's flow items, kept in each service's own table on the local stack).
    PynamoDB caches the connection on the class, so it is dropped whenever the binding changes.
    """
    if not table_name:
        raise RuntimeError(f"{model.__name__}: table name is not configured")
    target = _table_class(model, table_name) if per_table else model
    _bind(target, table_name)
    connection: Any = target._get_connection().connection
    if connection._client is None:
        connection._client = container_connection().client
    return target


def _bind(model: type[Model], table_name: str) -> None:
    settings = get_settings()
    if "Meta" not in model.__dict__:
        # Subclasses inherit their parent's Meta object: binding it would rebind every sibling model.
        model.Meta = type("Meta", (model.Meta,), {})  # type: ignore[assignment,arg-type]
    meta: Any = model.Meta
    wanted = (table_name, settings.aws_region, settings.aws_endpoint_url)
    if getattr(meta, "_stratus_binding", None) == wanted:
        return
    meta.table_name = table_name
    meta.region = settings.aws_region
    meta.host = settings.aws_endpoint_url
    meta.connect_timeout_seconds = settings.aws_connect_timeout_s
    meta.read_timeout_seconds = settings.aws_read_timeout_s
    meta.max_retry_attempts = settings.aws_max_attempts
    meta._stratus_binding = wanted
    model._connection = None
    if model not in _bound:
        _bound.append(model)
