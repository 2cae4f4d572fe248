"""PostgreSQL through psycopg 3: every execution runs in a READ ONLY transaction with a statement timeout, inside a
server-side cursor (``DECLARE ... CURSOR FOR`` takes exactly one SELECT), and is rolled back. The catalog is read
from ``pg_catalog``. Connect under a role that can only SELECT (docs/analyst.md shows how to create it)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from stratus.observability import logger
from stratus.retry import RetryPolicy
from stratus.sql.catalog import Catalog, CatalogColumn, CatalogTable, ForeignKey
from stratus.sql.errors import CONNECT_FAILED, ConnectionRejected, DatabaseUnavailable, QueryFailed, QueryTimeout
from stratus.sql.results import ExecutionLimits, QueryPlan, ResultSet, RowCollector

if TYPE_CHECKING:
    import psycopg

_CONNECT_RETRY: Final = RetryPolicy(max_attempts=3, base_delay_s=0.2, max_delay_s=1.0, retry_on=(DatabaseUnavailable,))
_RECYCLE_S: Final = 300.0
_FETCH_BATCH: Final = 200
_QUERY_CANCELED: Final = "57014"
_READ_ONLY_TRANSACTION: Final = "25006"
_INSUFFICIENT_PRIVILEGE: Final = "42501"
# Server answers worth another try (too many connections, starting up, connection exceptions); the rest is final.
_TRANSIENT_CLASSES: Final = ("53", "57", "08")
# format_type's long names, shortened to the names people write (and the catalog showed before).
_SHORT_TYPES: Final = (
    ("CHARACTER VARYING", "VARCHAR"),
    ("CHARACTER", "CHAR"),
    ("TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP"),
    ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"),
    ("TIME WITHOUT TIME ZONE", "TIME"),
    ("TIME WITH TIME ZONE", "TIMETZ"),
)

# Plain tables, partitioned tables and views; materialized views and foreign tables are not offered.
_TABLES_SQL: Final = """
SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v')
"""
_COLUMNS_SQL: Final = """
SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""
_PRIMARY_KEYS_SQL: Final = """
SELECT c.relname, a.attname
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
WHERE k.contype = 'p' AND n.nspname = %(schema)s
"""
# Foreign keys into the same schema, their columns in key order.
_FOREIGN_KEYS_SQL: Final = """
SELECT c.relname, r.relname,
  ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(num, pos)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.pos),
  ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(num, pos)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.pos)
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class r ON r.oid = k.confrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.contype = 'f' AND n.nspname = %(schema)s AND rn.nspname = %(schema)s
ORDER BY c.relname, k.conname
"""


@dataclass(frozen=True)
class PostgresTarget:
    host: str
    port: int
    database: str
    user: str
    schema: str = "public"
    sslmode: str = "prefer"
    connect_timeout_s: int = 5


@dataclass(frozen=True)
class _ColumnShape:
    name: str
    type: str
    nullable: bool


@dataclass
class _SchemaShape:
    """What ``pg_catalog`` says about one schema's tables, before any row is read."""

    columns: dict[str, list[_ColumnShape]]
    primary_keys: dict[str, set[str]]
    foreign_keys: dict[str, list[ForeignKey]]


class PostgresDatabase:
    """One database; keeps at most one idle connection, checked before reuse and replaced after five minutes."""

    dialect: Final = "postgres"

    def __init__(self, target: PostgresTarget, password: str | None) -> None:
        self.target = target
        self._password = password
        self._lock = threading.Lock()
        self._idle: tuple[psycopg.Connection[Any], float] | None = None

    def dispose(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, None
        if idle is not None:
            idle[0].close()

    def _open(self) -> psycopg.Connection[Any]:
        import psycopg

        schema = self.target.schema.replace('"', "")
        options: dict[str, Any] = {
            "host": self.target.host,
            "port": self.target.port,
            "dbname": self.target.database,
            "user": self.target.user,
            "connect_timeout": self.target.connect_timeout_s,
            "sslmode": self.target.sslmode,
            "application_name": "stratus-analyst",
            # Belt and braces: the session itself defaults to read-only and to the database's schema.
            "options": f'-c default_transaction_read_only=on -c search_path="{schema}"',
        }
        if self._password:
            options["password"] = self._password

        def attempt() -> psycopg.Connection[Any]:
            try:
                return psycopg.connect(autocommit=True, **options)
            except psycopg.OperationalError as error:
                raise _connect_failure(self.target, error) from error

        return _CONNECT_RETRY.call("postgres connect", attempt)

    def _checkout(self) -> tuple[psycopg.Connection[Any], float]:
        import psycopg

        with self._lock:
            idle, self._idle = self._idle, None
        if idle is not None:
            connection, opened = idle
            if not connection.closed and time.monotonic() - opened < _RECYCLE_S:
                try:
                    connection.execute("SELECT 1")
                    return idle
                except psycopg.Error:
                    pass
            connection.close()
        return self._open(), time.monotonic()

    def _checkin(self, held: tuple[psycopg.Connection[Any], float]) -> None:
        connection = held[0]
        if connection.closed or connection.broken:
            return
        with self._lock:
            if self._idle is None:
                self._idle = held
                return
        connection.close()

    @contextmanager
    def _read_only_transaction(self, limits: ExecutionLimits) -> Iterator[psycopg.Connection[Any]]:
        """A connection inside a READ ONLY transaction that is always rolled back; errors become ours."""
        import psycopg

        held = self._checkout()
        connection = held[0]
        try:
            with connection.transaction(force_rollback=True):
                _make_read_only(connection, limits)
                yield connection
        except psycopg.Error as error:
            raise _translate(error, limits) from error
        finally:
            self._checkin(held)

    def execute(self, sql: str, limits: ExecutionLimits) -> ResultSet:
        started = time.perf_counter()
        collector = RowCollector(limits)
        with (
            self._read_only_transaction(limits) as connection,
            connection.cursor(name=f"stratus_{uuid.uuid4().hex[:12]}") as cursor,
        ):
            cursor.itersize = _FETCH_BATCH
            cursor.execute(sql)
            columns = [d.name for d in cursor.description or ()]
            while True:
                batch = cursor.fetchmany(_FETCH_BATCH)
                if not batch or not all(collector.add(row) for row in batch):
                    break
        return collector.result(columns, (time.perf_counter() - started) * 1000)

    def explain(self, sql: str, limits: ExecutionLimits) -> QueryPlan:
        with self._read_only_transaction(limits) as connection:
            rows = connection.execute("EXPLAIN (FORMAT JSON) " + sql).fetchall()  # type: ignore[arg-type]
            text_rows = connection.execute("EXPLAIN " + sql).fetchall()  # type: ignore[arg-type]
        return QueryPlan(dialect="postgres", lines=[str(r[0]) for r in text_rows], raw=rows[0][0] if rows else None)

    def introspect(self, *, sample_values: int = 3, distinct_limit: int = 60) -> Catalog:
        schema = self.target.schema
        try:
            with self._read_only_transaction(ExecutionLimits(timeout_s=30)) as connection:
                names = sorted(row[0] for row in connection.execute(_TABLES_SQL, {"schema": schema}))
                shape = _schema_shape(connection, schema)
                tables = [
                    _table(connection, shape, schema, name, sample_values=sample_values, distinct_limit=distinct_limit)
                    for name in names
                ]
        except QueryFailed as error:
            raise QueryFailed(f"could not introspect PostgreSQL: {error.detail}", **error.extensions) from error
        return Catalog(dialect="postgres", schema_name=schema, tables=tables)


def _make_read_only(connection: psycopg.Connection[Any], limits: ExecutionLimits) -> None:
    from psycopg import sql as pgsql

    connection.execute("SET TRANSACTION READ ONLY")
    timeout_ms = pgsql.Literal(int(limits.timeout_s * 1000))
    connection.execute(pgsql.SQL("SET LOCAL statement_timeout = {}").format(timeout_ms))
    connection.execute("SET LOCAL idle_in_transaction_session_timeout = 60000")
    # Taking the snapshot here makes the transaction's mode final: SET TRANSACTION READ WRITE now fails.
    state = connection.execute("SELECT current_setting('transaction_read_only')").fetchone()
    if state is None or state[0] != "on":
        raise QueryFailed("the PostgreSQL transaction is not read-only; refusing to run the statement")


def _schema_shape(connection: psycopg.Connection[Any], schema: str) -> _SchemaShape:
    columns: dict[str, list[_ColumnShape]] = defaultdict(list)
    for table, name, type_name, nullable in connection.execute(_COLUMNS_SQL, {"schema": schema}):
        columns[table].append(_ColumnShape(name=name, type=_short_type(str(type_name)), nullable=bool(nullable)))
    primary_keys: dict[str, set[str]] = defaultdict(set)
    for table, name in connection.execute(_PRIMARY_KEYS_SQL, {"schema": schema}):
        primary_keys[table].add(name)
    foreign_keys: dict[str, list[ForeignKey]] = defaultdict(list)
    for table, referenced, own, theirs in connection.execute(_FOREIGN_KEYS_SQL, {"schema": schema}):
        foreign_keys[table].append(
            ForeignKey(columns=list(own), references_table=referenced, references_columns=list(theirs))
        )
    return _SchemaShape(columns=columns, primary_keys=primary_keys, foreign_keys=foreign_keys)


def _short_type(type_name: str) -> str:
    upper = type_name.upper()
    for long, short in _SHORT_TYPES:
        if upper.startswith(long):
            return short + upper[len(long) :]
    return upper


def _table(
    connection: psycopg.Connection[Any],
    shape: _SchemaShape,
    schema: str,
    name: str,
    *,
    sample_values: int,
    distinct_limit: int,
) -> CatalogTable:
    from psycopg import sql as pgsql

    table_ref = pgsql.Identifier(schema, name)
    counted = connection.execute(pgsql.SQL("SELECT COUNT(*) FROM {}").format(table_ref)).fetchone()
    primary = shape.primary_keys.get(name, set())
    columns = []
    for column in shape.columns.get(name, []):
        values = connection.execute(
            pgsql.SQL("SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT {n}").format(
                c=pgsql.Identifier(column.name), t=table_ref, n=pgsql.Literal(distinct_limit + 1)
            )
        ).fetchall()
        samples = [v if isinstance(v, int | float) else str(v)[:60] for (v,) in values[:sample_values]]
        textual = any(word in column.type for word in ("CHAR", "TEXT")) and not column.type.endswith("]")
        distinct = (
            [str(v) for (v,) in values if len(str(v)) <= 80] if textual and len(values) <= distinct_limit else None
        )
        columns.append(
            CatalogColumn(
                name=column.name,
                type=column.type,
                nullable=column.nullable,
                primary_key=column.name in primary,
                samples=samples,
                distinct_values=distinct,
            )
        )
    return CatalogTable(
        name=name,
        columns=columns,
        foreign_keys=shape.foreign_keys.get(name, []),
        row_count=int(counted[0]) if counted else None,
    )


def _connect_failure(
    target: PostgresTarget, error: psycopg.OperationalError
) -> DatabaseUnavailable | ConnectionRejected:
    """The driver's text names port states, banners and roles: it goes to the log, the caller gets one message."""
    logger.warning(
        "postgres connect failed",
        extra={"host": target.host, "port": target.port, "sqlstate": error.sqlstate, "error": _first_line(error)},
    )
    if error.sqlstate is None or error.sqlstate.startswith(_TRANSIENT_CLASSES):
        return DatabaseUnavailable(CONNECT_FAILED)
    return ConnectionRejected()


def _translate(error: Exception, limits: ExecutionLimits) -> Exception:
    import psycopg

    if isinstance(error, psycopg.errors.QueryCanceled) or getattr(error, "sqlstate", None) == _QUERY_CANCELED:
        return QueryTimeout(f"the query ran longer than {limits.timeout_s:g} s and was stopped")
    if isinstance(error, psycopg.OperationalError):
        logger.warning("postgres connection lost", extra={"error": _first_line(error)})
        return DatabaseUnavailable("the PostgreSQL connection was lost; try again")
    state = getattr(error, "sqlstate", None)
    if state in (_READ_ONLY_TRANSACTION, _INSUFFICIENT_PRIVILEGE):
        return QueryFailed(f"the read-only connection refused the statement: {_first_line(error)}", engine_error=state)
    return QueryFailed(f"postgres refused the statement: {_first_line(error)}", engine_error=state)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
