"""DuckDB files, opened ``read_only`` with file-system access, extension loading and configuration locked.
A timer interrupts an execution at the time limit (DuckDB has no statement timeout of its own)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Final

from stratus.sql.catalog import Catalog, CatalogColumn, CatalogTable, ForeignKey
from stratus.sql.errors import QueryFailed, QueryTimeout
from stratus.sql.results import ExecutionLimits, QueryPlan, ResultSet, RowCollector

_CONFIG: Final[dict[str, Any]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
    "threads": 1,
    "memory_limit": "256MB",
}


class DuckDbDatabase:
    dialect: Final = "duckdb"

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> Any:
        import duckdb

        if not self.path.is_file():
            raise QueryFailed(f"database file {self.path.name} is missing")
        try:
            return duckdb.connect(str(self.path), read_only=True, config=dict(_CONFIG))
        except duckdb.Error as error:
            raise QueryFailed(f"not a readable DuckDB database: {error}") from error

    def execute(self, sql: str, limits: ExecutionLimits) -> ResultSet:
        import duckdb

        started = time.perf_counter()
        connection = self.connect()
        timer = threading.Timer(limits.timeout_s, connection.interrupt)
        timer.start()
        try:
            cursor = connection.execute(sql)
            columns = [d[0] for d in cursor.description or ()]
            collector = RowCollector(limits)
            while True:
                batch = cursor.fetchmany(200)
                if not batch or not all(collector.add(row) for row in batch):
                    break
            return collector.result(columns, (time.perf_counter() - started) * 1000)
        except duckdb.InterruptException as error:
            raise QueryTimeout(f"the query ran longer than {limits.timeout_s:g} s and was stopped") from error
        except duckdb.Error as error:
            raise QueryFailed(f"duckdb refused the statement: {_first_line(error)}") from error
        finally:
            timer.cancel()
            connection.close()

    def explain(self, sql: str, limits: ExecutionLimits) -> QueryPlan:
        import duckdb

        connection = self.connect()
        try:
            rows = connection.execute("EXPLAIN " + sql).fetchall()
        except duckdb.Error as error:
            raise QueryFailed(f"duckdb could not explain the statement: {_first_line(error)}") from error
        finally:
            connection.close()
        text = "\n".join(str(row[1]) for row in rows)
        return QueryPlan(dialect="duckdb", lines=text.splitlines(), raw=None)

    def introspect(self, *, sample_values: int = 3, distinct_limit: int = 60) -> Catalog:
        import duckdb

        connection = self.connect()
        try:
            database = connection.execute("SELECT current_database()").fetchone()[0]
            listing = connection.execute(
                "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_catalog = ? AND table_schema = 'main' ORDER BY table_name, ordinal_position",
                [database],
            ).fetchall()
            constraints = connection.execute(
                "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
                "referenced_column_names FROM duckdb_constraints() WHERE database_name = ? AND schema_name = 'main'",
                [database],
            ).fetchall()
            by_table: dict[str, list[tuple[str, str, bool]]] = {}
            for table, column, data_type, nullable in listing:
                by_table.setdefault(table, []).append((column, data_type, nullable == "YES"))
            tables = []
            for table, columns in by_table.items():
                tables.append(self._table(connection, table, columns, constraints, sample_values, distinct_limit))
        except duckdb.Error as error:
            raise QueryFailed(f"not a readable DuckDB database: {_first_line(error)}") from error
        finally:
            connection.close()
        return Catalog(dialect="duckdb", tables=tables)

    @staticmethod
    def _table(
        connection: Any,
        table: str,
        columns: list[tuple[str, str, bool]],
        constraints: list[tuple[Any, ...]],
        sample_values: int,
        distinct_limit: int,
    ) -> CatalogTable:
        quoted = '"' + table.replace('"', '""') + '"'
        primary: set[str] = set()
        foreign: list[ForeignKey] = []
        for name, kind, cols, ref_table, ref_cols in constraints:
            if name != table:
                continue
            if kind == "PRIMARY KEY":
                primary.update(cols)
            elif kind == "FOREIGN KEY" and ref_table:
                foreign.append(
                    ForeignKey(columns=list(cols), references_table=ref_table, references_columns=list(ref_cols))
                )
        row_count = connection.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0]
        catalog_columns = []
        for column, data_type, nullable in columns:
            quoted_column = '"' + column.replace('"', '""') + '"'
            values = connection.execute(
                f"SELECT DISTINCT {quoted_column} FROM {quoted} WHERE {quoted_column} IS NOT NULL LIMIT ?",
                [distinct_limit + 1],
            ).fetchall()
            samples = [v if isinstance(v, int | float) else str(v)[:60] for (v,) in values[:sample_values]]
            distinct = None
            if data_type.upper().startswith("VARCHAR") and len(values) <= distinct_limit:
                distinct = [str(v) for (v,) in values if len(str(v)) <= 80]
            catalog_columns.append(
                CatalogColumn(
                    name=column,
                    type=data_type,
                    nullable=nullable,
                    primary_key=column in primary,
                    samples=samples,
                    distinct_values=distinct,
                )
            )
        return CatalogTable(name=table, columns=catalog_columns, foreign_keys=foreign, row_count=row_count)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
