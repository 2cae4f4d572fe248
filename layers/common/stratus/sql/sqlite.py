"""SQLite, read-only by construction: ``mode=ro`` URI, ``PRAGMA query_only``, no ATTACH, and an authorizer
that allows reading and allowlisted functions only. A progress handler enforces the time limit."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from stratus.sql.catalog import Catalog, CatalogColumn, CatalogTable, ForeignKey
from stratus.sql.errors import QueryFailed, QueryTimeout
from stratus.sql.results import ExecutionLimits, QueryPlan, ResultSet, RowCollector

# Functions SQLite may call while running an accepted statement (the guard's allowlist, in SQLite's names).
_ENGINE_FUNCTIONS_WORDS: Final = """
    abs avg count max min sum total round coalesce ifnull nullif lower upper length substr substring trim ltrim
    rtrim replace instr printf format strftime date time datetime julianday unixepoch cast group_concat string_agg
    iif hex unicode typeof sign sqrt pow power exp ln log log10 floor ceil ceiling mod char quote likely unlikely
    row_number rank dense_rank ntile lag lead first_value last_value nth_value percent_rank cume_dist like glob
    concat concat_ws median
"""
_ENGINE_FUNCTIONS: Final = frozenset(_ENGINE_FUNCTIONS_WORDS.split())
_PROGRESS_EVERY: Final = 2_000  # SQLite VM instructions between deadline checks


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ):
        if action == sqlite3.SQLITE_READ and arg1 and arg1.lower().startswith("sqlite_"):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION and arg2 and arg2.lower() in _ENGINE_FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class SqliteDatabase:
    """One SQLite file, opened read-only for every execution."""

    dialect: Final = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self, *, timeout_s: float | None = None) -> sqlite3.Connection:
        """A connection that cannot write, attach, load extensions or run PRAGMAs."""
        if not self.path.is_file():
            raise QueryFailed(f"database file {self.path.name} is missing")
        uri = f"file:{quote(str(self.path))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=1.0, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA query_only = ON")
        connection.execute("PRAGMA trusted_schema = OFF")
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 10_000_000)
        connection.set_authorizer(_authorizer)
        if timeout_s is not None:
            deadline = time.monotonic() + timeout_s
            connection.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, _PROGRESS_EVERY)
        return connection

    def execute(self, sql: str, limits: ExecutionLimits) -> ResultSet:
        started = time.perf_counter()
        connection = self.connect(timeout_s=limits.timeout_s)
        try:
            cursor = connection.execute(sql)
            columns = [d[0] for d in cursor.description or ()]
            collector = RowCollector(limits)
            while True:
                batch = cursor.fetchmany(200)
                if not batch or not all(collector.add(row) for row in batch):
                    break
            return collector.result(columns, (time.perf_counter() - started) * 1000)
        except sqlite3.OperationalError as error:
            raise _translate(error, limits) from error
        except sqlite3.DatabaseError as error:
            raise QueryFailed(f"sqlite refused the statement: {error}") from error
        finally:
            connection.close()

    def explain(self, sql: str, limits: ExecutionLimits) -> QueryPlan:
        connection = self.connect(timeout_s=limits.timeout_s)
        try:
            rows = connection.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        except sqlite3.DatabaseError as error:
            raise _translate(error, limits) from error
        finally:
            connection.close()
        depth: dict[int, int] = {0: 0}
        lines = []
        for node_id, parent, _, detail in rows:
            depth[node_id] = depth.get(parent, 0) + 1
            lines.append("  " * (depth[node_id] - 1) + str(detail))
        return QueryPlan(dialect="sqlite", lines=lines, raw=[list(r) for r in rows])

    def introspect(self, *, sample_values: int = 3, distinct_limit: int = 60) -> Catalog:
        """Tables, columns, keys, row counts and sample values, read through a plain read-only connection."""
        uri = f"file:{quote(str(self.path))}?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=1.0)
        except sqlite3.Error as error:
            raise QueryFailed(f"not a readable SQLite database: {error}") from error
        try:
            connection.execute("PRAGMA query_only = ON")
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
                    "ORDER BY name"
                )
            ]
            tables = [self._table(connection, name, sample_values, distinct_limit) for name in names]
        except sqlite3.DatabaseError as error:
            raise QueryFailed(f"not a readable SQLite database: {error}") from error
        finally:
            connection.close()
        return Catalog(dialect="sqlite", tables=tables)

    @staticmethod
    def _table(connection: sqlite3.Connection, name: str, sample_values: int, distinct_limit: int) -> CatalogTable:
        quoted = '"' + name.replace('"', '""') + '"'
        info = connection.execute(f"PRAGMA table_info({quoted})").fetchall()
        keys: dict[int, ForeignKey] = {}
        for row in connection.execute(f"PRAGMA foreign_key_list({quoted})").fetchall():
            fk_id, _, ref_table, from_col, to_col = row[0], row[1], row[2], row[3], row[4]
            existing = keys.get(fk_id)
            columns = [*(existing.columns if existing else []), from_col]
            refs = [*(existing.references_columns if existing else []), to_col or ""]
            keys[fk_id] = ForeignKey(columns=columns, references_table=ref_table, references_columns=refs)
        row_count = connection.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0]
        columns = []
        for _, column, declared, notnull, _, pk in info:
            quoted_column = '"' + column.replace('"', '""') + '"'
            samples = [
                _sample(v)
                for (v,) in connection.execute(
                    f"SELECT DISTINCT {quoted_column} FROM {quoted} WHERE {quoted_column} IS NOT NULL LIMIT ?",
                    (sample_values,),
                )
            ]
            distinct = None
            if "char" in declared.lower() or "text" in declared.lower() or declared == "":
                values = connection.execute(
                    f"SELECT DISTINCT {quoted_column} FROM {quoted} WHERE {quoted_column} IS NOT NULL LIMIT ?",
                    (distinct_limit + 1,),
                ).fetchall()
                if len(values) <= distinct_limit:
                    distinct = [str(v) for (v,) in values if isinstance(v, str) and len(v) <= 80]
            columns.append(
                CatalogColumn(
                    name=column,
                    type=declared or "",
                    nullable=not notnull,
                    primary_key=bool(pk),
                    samples=samples,
                    distinct_values=distinct,
                )
            )
        return CatalogTable(name=name, columns=columns, foreign_keys=list(keys.values()), row_count=row_count)


def _sample(value: Any) -> str | int | float:
    if isinstance(value, int | float):
        return value
    text = str(value) if not isinstance(value, bytes) else f"<{len(value)} bytes>"
    return text if len(text) <= 60 else text[:57] + "..."


_REFUSALS: Final = frozenset({"SQLITE_AUTH", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN"})


def _translate(error: sqlite3.DatabaseError, limits: ExecutionLimits) -> QueryFailed:
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_INTERRUPT":
        return QueryTimeout(f"the query ran longer than {limits.timeout_s:g} s and was stopped")
    if name in _REFUSALS:
        return QueryFailed(f"the read-only connection refused the statement: {error}", engine_error=name)
    return QueryFailed(f"sqlite refused the statement: {error}", engine_error=name or None)
