"""The attack corpus (tests/data/analyst_attacks.jsonl, 262 statements and questions): zero may execute
anything but a read of the allowed tables — through the whole pipeline, and through the connection alone.

An auditing authorizer wraps the executor's own: it records every action SQLite is asked to authorise for
each statement that runs, so "only reads of allowed tables" is observed, not assumed.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from analyst.generation import OfflineSqlGenerator, UnsafeQuestion, looks_like_sql, screen_question
from stratus.errors import NotFound
from stratus.sql import Catalog, ExecutionLimits, QueryFailed, UnsafeQuery
from stratus.sql import sqlite as sqlite_executor
from stratus.sql.guard import validate
from stratus.sql.sqlite import SqliteDatabase
from tests.unit.analyst.conftest import file_digest

CORPUS = Path(__file__).resolve().parents[2] / "data" / "analyst_attacks.jsonl"
LIMITS = ExecutionLimits(max_rows=50, max_bytes=200_000, timeout_s=2.0)
READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}


def corpus() -> list[dict[str, str]]:
    return [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]


class AuditedSqlite(SqliteDatabase):
    """The real executor, with every authorised action recorded."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.allowed: list[tuple[int, str | None, str | None]] = []  # actions of the statements that ran
        self._current: list[tuple[int, str | None, str | None]] = []

    def connect(self, *, timeout_s: float | None = None) -> sqlite3.Connection:
        connection = super().connect(timeout_s=timeout_s)

        def audit(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
            verdict = sqlite_executor._authorizer(action, arg1, arg2, db, trigger)
            if verdict == sqlite3.SQLITE_OK:
                self._current.append((action, arg1, arg2))
            return verdict

        connection.set_authorizer(audit)
        return connection

    def execute(self, sql: str, limits: ExecutionLimits) -> Any:
        self._current = []
        result = super().execute(sql, limits)
        self.allowed.extend(self._current)
        return result


def assert_only_reads(audited: AuditedSqlite, catalog: Catalog) -> None:
    tables = {t.name.lower() for t in catalog.tables}
    for action, arg1, _ in audited.allowed:
        assert action in READ_ACTIONS, f"non-read action {action} on {arg1}"
        if action == sqlite3.SQLITE_READ:
            assert arg1 is not None and arg1.lower() in tables, f"read of {arg1}"


def test_corpus_has_every_kind_of_attack() -> None:
    entries = corpus()
    categories = Counter(e["category"] for e in entries)
    assert len(entries) >= 200
    assert set(categories) >= {
        "stacked", "comments", "union_exfiltration", "hidden_writes", "commands",
        "time_and_functions", "encoding", "question_injection", "prompt_injection", "other_tenants",
    }  # fmt: skip


def test_the_pipeline_executes_nothing_but_reads_of_allowed_tables(
    chinook_path: Path, catalog: Catalog, tmp_path: Path
) -> None:
    # Given the database's digest before the attacks
    before = file_digest(chinook_path)
    audited = AuditedSqlite(chinook_path)
    outcomes: Counter[str] = Counter()
    generator = OfflineSqlGenerator()

    for entry in corpus():
        text = entry["text"]
        # When each attack goes through the analyst's pipeline: screening, generation, guard, read-only execution
        try:
            if entry["kind"] == "question" and not looks_like_sql(text):
                screen_question(text, tenant_id="tenant-a", database_id="db_00000000000000aa")
                generation = generator.generate(text, catalog, [], [])
                if generation.kind != "sql" or generation.sql is None:
                    outcomes["not answered"] += 1
                    continue
                text = generation.sql
            checked = validate(text, catalog, max_rows=LIMITS.max_rows)
            audited.execute(checked.sql, LIMITS)
            outcomes["read"] += 1
        except (UnsafeQuery, UnsafeQuestion, NotFound):
            outcomes["refused"] += 1
        except QueryFailed:
            outcomes["failed read-only"] += 1

    # Then whatever ran only read allowed tables, and the database is byte-identical
    assert_only_reads(audited, catalog)
    assert file_digest(chinook_path) == before
    assert not Path("/tmp/pwned.db").exists() and not Path("/tmp/copy.db").exists()
    print(f"\nattack corpus through the pipeline: {dict(outcomes)}")
    assert outcomes["refused"] >= 240


def test_the_connection_alone_refuses_every_write_even_without_the_guard(chinook_path: Path, catalog: Catalog) -> None:
    # Given layer one bypassed: every SQL attack is sent straight to the read-only executor
    before = file_digest(chinook_path)
    audited = AuditedSqlite(chinook_path)
    outcomes: Counter[str] = Counter()
    for entry in corpus():
        if entry["kind"] != "sql":
            continue
        try:
            audited.execute(entry["text"], LIMITS)
            outcomes["ran"] += 1
        except (QueryFailed, sqlite3.Warning, ValueError):
            outcomes["refused"] += 1
    # Then only reads of allowed tables were authorised and nothing changed on disk
    assert_only_reads(audited, catalog)
    assert file_digest(chinook_path) == before
    assert not Path("/tmp/pwned.db").exists() and not Path("/tmp/copy.db").exists()
    print(f"\nattack corpus straight at the connection: {dict(outcomes)}")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO Artist (Name) VALUES ('x')",
        "UPDATE Track SET UnitPrice = 0",
        "DELETE FROM Album",
        "DROP TABLE Genre",
        "CREATE TABLE pwned (x)",
        "ATTACH DATABASE ':memory:' AS m",
        "PRAGMA query_only = OFF",
    ],
)
def test_mode_ro_and_query_only_hold_without_the_authorizer(chinook_path: Path, statement: str) -> None:
    # Given a connection from the executor with even the authorizer removed
    connection = SqliteDatabase(chinook_path).connect()
    connection.set_authorizer(None)
    before = file_digest(chinook_path)
    # When a write is attempted, Then SQLite itself refuses it (read-only file, query_only, no ATTACH slots)
    with pytest.raises(sqlite3.Error):
        connection.execute(statement)
        connection.execute("INSERT INTO Genre (Name) VALUES ('still read-only?')")
    connection.close()
    assert file_digest(chinook_path) == before


def _heavy() -> str:
    return "SELECT COUNT(*) FROM Track a, Track b, Track c"


def test_time_row_and_byte_limits_stop_every_execution(chinook: SqliteDatabase) -> None:
    with pytest.raises(QueryFailed) as timed_out:
        chinook.execute(_heavy(), ExecutionLimits(timeout_s=0.3))
    assert timed_out.value.type_slug == "query-timeout"

    rows = chinook.execute("SELECT TrackId FROM Track", ExecutionLimits(max_rows=7))
    assert rows.row_count == 7 and rows.truncated and rows.truncated_by == "rows"

    sized = chinook.execute("SELECT * FROM Track", ExecutionLimits(max_bytes=2048))
    assert sized.truncated_by == "bytes" and sized.bytes <= 2048 and 0 < sized.row_count < 50


def test_results_are_plain_json(chinook: SqliteDatabase) -> None:
    result: Any = chinook.execute("SELECT InvoiceDate, Total FROM Invoice ORDER BY InvoiceId LIMIT 1", LIMITS)
    assert result.columns == ["InvoiceDate", "Total"]
    assert result.rows == [["2021-01-01 00:00:00", 1.98]]
    json.dumps(result.model_dump())
