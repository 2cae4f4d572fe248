"""Layer one: the sqlglot guard passes a single read of allowed tables and columns, and says why it refuses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stratus.sql import Catalog, UnsafeQuery
from stratus.sql.guard import validate


def refusal(sql: str, catalog: Catalog) -> str:
    with pytest.raises(UnsafeQuery) as refused:
        validate(sql, catalog, max_rows=100)
    assert refused.value.status == 422 and refused.value.detail
    return refused.value.reason


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT 1; DROP TABLE Album", "multiple_statements"),
        ("DELETE FROM Album", "write"),
        ("DROP TABLE Album", "ddl"),
        ("PRAGMA writable_schema = ON", "pragma"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "attach"),
        ("WITH d AS (DELETE FROM Album RETURNING *) SELECT * FROM d", "write"),
        ("SELECT * INTO Copy FROM Album", "select_into"),
        ("SELECT * FROM Album FOR UPDATE", "locking"),
        ("SELECT load_extension('evil')", "dangerous_function"),
        ("SELECT pg_sleep(10)", "dangerous_function"),
        ("SELECT randomblob(1000000000)", "dangerous_function"),
        ("SELECT * FROM sqlite_master", "system_catalog"),
        ("SELECT Name FROM Artist UNION SELECT sql FROM sqlite_schema", "system_catalog"),
        ("SELECT * FROM information_schema.tables", "system_catalog"),
        ("SELECT * FROM other.Album", "other_database"),
        ("SELECT * FROM Secrets", "unknown_table"),
        ("SELECT Password FROM Customer", "unknown_column"),
        ("SELECT * FROM pragma_table_info('Album')", "table_function"),
        ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r", "recursive_cte"),
        ("SELECT ?", "parameters"),
        ("SELECT * FROM Album\x00", "control_characters"),
        ("VACUUM", "command"),
        ("SELEC * FROM Album", "unparseable"),
        ("", "empty"),
    ],
)
def test_refuses_with_a_stable_reason(sql: str, reason: str, catalog: Catalog) -> None:
    assert refusal(sql, catalog) == reason


def test_limit_is_added_kept_or_capped(catalog: Catalog) -> None:
    added = validate("SELECT Name FROM Artist", catalog, max_rows=100)
    assert added.sql.endswith("LIMIT 100") and added.limit_applied
    kept = validate("SELECT Name FROM Artist LIMIT 5", catalog, max_rows=100)
    assert kept.sql.endswith("LIMIT 5") and not kept.limit_applied
    capped = validate("SELECT Name FROM Artist LIMIT 100000", catalog, max_rows=100)
    assert capped.sql.endswith("LIMIT 100") and capped.limit_applied
    union = validate("SELECT Name FROM Artist UNION SELECT Name FROM Genre", catalog, max_rows=100)
    assert union.sql.endswith("LIMIT 100") and union.tables == ["Artist", "Genre"]


def test_what_runs_is_regenerated_without_comments(catalog: Catalog) -> None:
    checked = validate("SELECT Title /* ; DROP TABLE Album */ FROM Album -- trailing", catalog, max_rows=10)
    assert checked.sql == "SELECT Title FROM Album LIMIT 10"
    assert checked.columns == ["Album.Title"]


def test_reports_the_tables_columns_and_joins_read(catalog: Catalog) -> None:
    checked = validate(
        "SELECT g.Name, COUNT(*) FROM Track t JOIN Genre g ON t.GenreId = g.GenreId GROUP BY g.Name",
        catalog,
        max_rows=50,
    )
    assert checked.tables == ["Track", "Genre"]
    assert set(checked.columns) == {"Genre.Name", "Track.GenreId", "Genre.GenreId"}
    assert [(j.left, j.right, j.kind) for j in checked.joins] == [("Track", "Genre", "INNER")]


def test_hidden_columns_are_neither_selectable_nor_starred(catalog: Catalog) -> None:
    restricted = catalog.restrict(None, ["Customer.Email"])
    assert refusal("SELECT Email FROM Customer", restricted) == "unknown_column"
    assert refusal("SELECT * FROM Customer", restricted) == "hidden_columns"
    assert refusal("SELECT FirstName FROM Customer WHERE Email LIKE 'a%'", restricted) == "unknown_column"
    assert validate("SELECT COUNT(*) FROM Customer", restricted, max_rows=1).tables == ["Customer"]
    only_music = catalog.restrict(["Album", "Artist"], [])
    assert refusal("SELECT * FROM Customer", only_music) == "unknown_table"


def test_double_quoted_strings_get_a_hint(catalog: Catalog) -> None:
    with pytest.raises(UnsafeQuery) as refused:
        validate('SELECT * FROM Artist WHERE Name = "AC/DC"', catalog, max_rows=10)
    assert "single quotes" in refused.value.detail


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_any_text_is_either_refused_or_a_bounded_read(catalog: Catalog, text: str) -> None:
    try:
        checked = validate(text, catalog, max_rows=10)
    except UnsafeQuery:
        return
    again = validate(checked.sql, catalog, max_rows=10)
    assert again.sql == checked.sql and again.limit <= 10


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["Name", "Composer", "Milliseconds", "UnitPrice", "*"]),
    st.sampled_from(["", " WHERE Milliseconds > 1000", " WHERE Name LIKE 'a%'"]),
    st.sampled_from(["", " ORDER BY 1", " LIMIT 3", " LIMIT 99999"]),
    st.sampled_from(["", "; DELETE FROM Track", " -- x", "; PRAGMA query_only = OFF"]),
)
def test_built_statements_keep_their_limit_and_lose_their_tails(
    catalog: Catalog, column: str, where: str, tail: str, suffix: str
) -> None:
    sql = f"SELECT {column} FROM Track{where}{tail}{suffix}"
    if suffix.startswith(";"):
        assert refusal(sql, catalog) == "multiple_statements"
        return
    checked = validate(sql, catalog, max_rows=50)
    assert checked.tables == ["Track"] and checked.limit <= 50 and "--" not in checked.sql
