"""PostgreSQL through SQLAlchemy (psycopg 3): every execution runs in a READ ONLY transaction with a statement
timeout, inside a server-side cursor (``DECLARE ... CURSOR FOR`` takes exactly one SELECT), and is rolled back.
Connect under a role that can only SELECT (docs/analyst.md shows how to create it)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Final

from stratus.retry import RetryPolicy
from stratus.sql.catalog import Catalog, CatalogColumn, CatalogTable, ForeignKey
from stratus.sql.errors import DatabaseUnavailable, QueryFailed, QueryTimeout
from stratus.sql.results import ExecutionLimits, QueryPlan, ResultSet, RowCollector

_CONNECT_RETRY: Final = RetryPolicy(max_attempts=3, base_delay_s=0.2, max_delay_s=1.0, retry_on=(DatabaseUnavailable,))
_QUERY_CANCELED: Final = "57014"
_READ_ONLY_TRANSACTION: Final = "25006"
_INSUFFICIENT_PRIVILEGE: Final = "42501"


@dataclass(frozen=True)
class PostgresTarget:
    host: str
    port: int
    database: str
    user: str
    schema: str = "public"
    sslmode: str = "prefer"
    connect_timeout_s: int = 5


class PostgresDatabase:
    dialect: Final = "postgres"

    def __init__(self, target: PostgresTarget, password: str | None) -> None:
        self.target = target
        self._password = password
        self._engine: Any = None

    def engine(self) -> Any:
        if self._engine is None:
            from sqlalchemy import URL, create_engine

            url = URL.create(
                "postgresql+psycopg",
                username=self.target.user,
                password=self._password or None,
                host=self.target.host,
                port=self.target.port,
                database=self.target.database,
            )
            schema = self.target.schema.replace('"', "")
            self._engine = create_engine(
                url,
                pool_size=1,
                max_overflow=1,
                pool_pre_ping=True,
                pool_recycle=300,
                connect_args={
                    "connect_timeout": self.target.connect_timeout_s,
                    "sslmode": self.target.sslmode,
                    "application_name": "stratus-analyst",
                    # Belt and braces: the session itself defaults to read-only and to the database's schema.
                    "options": f'-c default_transaction_read_only=on -c search_path="{schema}"',
                },
            )
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _raw_connection(self) -> Any:
        from sqlalchemy.exc import OperationalError

        def attempt() -> Any:
            try:
                return self.engine().raw_connection()
            except OperationalError as error:
                raise DatabaseUnavailable(
                    f"could not connect to PostgreSQL at {self.target.host}:{self.target.port}: {_first_line(error)}"
                ) from error

        return _CONNECT_RETRY.call("postgres connect", attempt)

    def execute(self, sql: str, limits: ExecutionLimits) -> ResultSet:
        started = time.perf_counter()
        raw = self._raw_connection()
        connection = raw.driver_connection
        try:
            with connection.transaction(force_rollback=True):
                self._read_only(connection, limits)
                with connection.cursor(name=f"stratus_{uuid.uuid4().hex[:12]}") as cursor:
                    cursor.itersize = 200
                    cursor.execute(sql)
                    columns = [d.name for d in cursor.description or ()]
                    collector = RowCollector(limits)
                    while True:
                        batch = cursor.fetchmany(200)
                        if not batch or not all(collector.add(row) for row in batch):
                            break
            return collector.result(columns, (time.perf_counter() - started) * 1000)
        except Exception as error:
            raise _translate(error, limits) from error
        finally:
            raw.close()

    def explain(self, sql: str, limits: ExecutionLimits) -> QueryPlan:
        raw = self._raw_connection()
        connection = raw.driver_connection
        try:
            with connection.transaction(force_rollback=True):
                self._read_only(connection, limits)
                rows = connection.execute("EXPLAIN (FORMAT JSON) " + sql).fetchall()
                text_rows = connection.execute("EXPLAIN " + sql).fetchall()
        except Exception as error:
            raise _translate(error, limits) from error
        finally:
            raw.close()
        return QueryPlan(dialect="postgres", lines=[str(r[0]) for r in text_rows], raw=rows[0][0] if rows else None)

    @staticmethod
    def _read_only(connection: Any, limits: ExecutionLimits) -> None:
        connection.execute("SET TRANSACTION READ ONLY")
        connection.execute(f"SET LOCAL statement_timeout = {int(limits.timeout_s * 1000)}")
        connection.execute("SET LOCAL idle_in_transaction_session_timeout = 60000")
        # Taking the snapshot here makes the transaction's mode final: SET TRANSACTION READ WRITE now fails.
        state = connection.execute("SELECT current_setting('transaction_read_only')").fetchone()
        if state is None or state[0] != "on":
            raise QueryFailed("the PostgreSQL transaction is not read-only; refusing to run the statement")

    def introspect(self, *, sample_values: int = 3, distinct_limit: int = 60) -> Catalog:
        from sqlalchemy import inspect
        from sqlalchemy.exc import OperationalError, SQLAlchemyError

        schema = self.target.schema
        try:
            engine = self.engine()
            inspector = inspect(engine)
            names = sorted([*inspector.get_table_names(schema=schema), *inspector.get_view_names(schema=schema)])
            tables = []
            raw = self._raw_connection()
            try:
                connection = raw.driver_connection
                with connection.transaction(force_rollback=True):
                    self._read_only(connection, ExecutionLimits(timeout_s=30))
                    for name in names:
                        tables.append(self._table(inspector, connection, name, schema, sample_values, distinct_limit))
            finally:
                raw.close()
        except OperationalError as error:
            raise DatabaseUnavailable(f"could not introspect PostgreSQL: {_first_line(error)}") from error
        except SQLAlchemyError as error:
            raise QueryFailed(f"could not introspect PostgreSQL: {_first_line(error)}") from error
        return Catalog(dialect="postgres", schema_name=schema, tables=tables)

    @staticmethod
    def _table(
        inspector: Any, connection: Any, name: str, schema: str, sample_values: int, distinct_limit: int
    ) -> CatalogTable:
        from psycopg import sql as pgsql

        primary = set((inspector.get_pk_constraint(name, schema=schema) or {}).get("constrained_columns") or [])
        foreign = [
            ForeignKey(
                columns=fk["constrained_columns"],
                references_table=fk["referred_table"],
                references_columns=fk["referred_columns"],
            )
            for fk in inspector.get_foreign_keys(name, schema=schema)
            if fk.get("referred_schema") in (None, schema)
        ]
        table_ref = pgsql.Identifier(schema, name)
        row_count = connection.execute(pgsql.SQL("SELECT COUNT(*) FROM {}").format(table_ref)).fetchone()[0]
        columns = []
        for column in inspector.get_columns(name, schema=schema):
            column_ref = pgsql.Identifier(column["name"])
            values = connection.execute(
                pgsql.SQL("SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT {n}").format(
                    c=column_ref, t=table_ref, n=pgsql.Literal(distinct_limit + 1)
                )
            ).fetchall()
            type_name = str(column["type"])
            samples = [v if isinstance(v, int | float) else str(v)[:60] for (v,) in values[:sample_values]]
            textual = any(word in type_name.upper() for word in ("CHAR", "TEXT"))
            distinct = (
                [str(v) for (v,) in values if len(str(v)) <= 80] if textual and len(values) <= distinct_limit else None
            )
            columns.append(
                CatalogColumn(
                    name=column["name"],
                    type=type_name,
                    nullable=bool(column.get("nullable", True)),
                    primary_key=column["name"] in primary,
                    samples=samples,
                    distinct_values=distinct,
                )
            )
        return CatalogTable(name=name, columns=columns, foreign_keys=foreign, row_count=row_count)


def _translate(error: Exception, limits: ExecutionLimits) -> Exception:
    import psycopg

    if isinstance(error, QueryFailed | DatabaseUnavailable):
        return error
    if isinstance(error, psycopg.errors.QueryCanceled) or getattr(error, "sqlstate", None) == _QUERY_CANCELED:
        return QueryTimeout(f"the query ran longer than {limits.timeout_s:g} s and was stopped")
    if isinstance(error, psycopg.OperationalError):
        return DatabaseUnavailable(f"PostgreSQL connection failed: {_first_line(error)}")
    if isinstance(error, psycopg.Error):
        state = getattr(error, "sqlstate", None)
        if state in (_READ_ONLY_TRANSACTION, _INSUFFICIENT_PRIVILEGE):
            return QueryFailed(
                f"the read-only connection refused the statement: {_first_line(error)}", engine_error=state
            )
        return QueryFailed(f"postgres refused the statement: {_first_line(error)}", engine_error=state)
    return error


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
