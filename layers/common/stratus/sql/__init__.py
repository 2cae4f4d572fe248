"""Read-only SQL for analysts: a catalog of what may be read, a guard that proves a statement is a single
read of allowed tables and columns, and executors whose connections cannot write.

Three layers, each enough on its own for writes: ``guard.validate`` (sqlglot, in the database's dialect),
a read-only connection (SQLite ``mode=ro`` + ``query_only`` + an authorizer; DuckDB ``read_only`` with
external access off; PostgreSQL read-only transaction in a server-side cursor under a read-only role), and
row / byte / time limits on every execution. Importing this package loads no sqlglot or driver.
"""

from stratus.sql.catalog import Catalog, CatalogColumn, CatalogTable, ForeignKey
from stratus.sql.errors import (
    CONNECT_FAILED,
    ConnectionRejected,
    DatabaseUnavailable,
    QueryFailed,
    QueryTimeout,
    UnsafeQuery,
)
from stratus.sql.results import ExecutionLimits, QueryPlan, ResultSet

__all__ = [
    "CONNECT_FAILED",
    "Catalog",
    "CatalogColumn",
    "CatalogTable",
    "ConnectionRejected",
    "DatabaseUnavailable",
    "ExecutionLimits",
    "ForeignKey",
    "QueryFailed",
    "QueryPlan",
    "QueryTimeout",
    "ResultSet",
    "UnsafeQuery",
]
