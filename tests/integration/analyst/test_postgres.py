"""The PostgreSQL path against a real server (127.0.0.1:5432, database ``test``, trust auth).

Under CI (CI=true) these tests are mandatory and fail when the server is unreachable; elsewhere they are
skipped with the reason printed in the summary. Each run loads Chinook into its own schema and creates its
own read-only role (the one docs/analyst.md shows how to create), and drops both afterwards.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from stratus.sql import Catalog, ExecutionLimits, QueryFailed
from tests.integration.analyst.conftest import ask, open_session
from tests.integration.conftest import TenantKey, auth
from tests.unit.analyst.chinook import gold_pairs, gold_sql, result_key

HOST, PORT, DATABASE = "127.0.0.1", 5432, "test"
_TYPES = {"INTEGER": "integer", "DATETIME": "timestamp"}


@dataclass(frozen=True)
class LoadedChinook:
    schema: str
    role: str
    admin: str


def _admin_connection() -> tuple[Any, str]:
    import psycopg

    problems = []
    for user in ("postgres", "root"):
        try:
            return psycopg.connect(
                host=HOST, port=PORT, dbname=DATABASE, user=user, connect_timeout=3, autocommit=True
            ), user
        except psycopg.OperationalError as error:
            problems.append(f"{user}: {str(error).strip().splitlines()[0]}")
    reason = f"PostgreSQL at {HOST}:{PORT}/{DATABASE} is unreachable ({'; '.join(problems)})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI the PostgreSQL tests are mandatory")
    pytest.skip(reason)


def _pg_type(declared: str) -> str:
    upper = declared.upper()
    if upper.startswith("NVARCHAR"):
        return "varchar" + upper[len("NVARCHAR") :]
    return _TYPES.get(upper, declared.lower() or "text")


@pytest.fixture(scope="module")
def chinook_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedChinook]:
    import sqlite3

    from psycopg import sql

    from stratus.sql.sqlite import SqliteDatabase
    from tests.unit.analyst.chinook import chinook_sample

    admin, admin_user = _admin_connection()
    suffix = secrets.token_hex(4)
    schema, role = f"analyst_chinook_{suffix}", f"analyst_ro_{suffix}"
    source = chinook_sample(tmp_path_factory.mktemp("pg-chinook"))
    catalog = SqliteDatabase(source).introspect()
    lite = sqlite3.connect(source)
    try:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        for table in catalog.tables:
            columns = [
                sql.SQL("{} {}").format(sql.Identifier(c.name.lower()), sql.SQL(_pg_type(c.type)))
                for c in table.columns
            ]
            keys = [c.name.lower() for c in table.columns if c.primary_key]
            columns.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, keys))))
            admin.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    sql.Identifier(schema, table.name.lower()), sql.SQL(", ").join(columns)
                )
            )
            names = sql.SQL(", ").join(sql.Identifier(c.name.lower()) for c in table.columns)
            with admin.cursor().copy(
                sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(schema, table.name.lower()), names)
            ) as copy:
                for row in lite.execute(f'SELECT * FROM "{table.name}"'):
                    copy.write_row(row)
        for table in catalog.tables:
            for fk in table.foreign_keys:
                admin.execute(
                    sql.SQL("ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {} ({})").format(
                        sql.Identifier(schema, table.name.lower()),
                        sql.SQL(", ").join(sql.Identifier(c.lower()) for c in fk.columns),
                        sql.Identifier(schema, fk.references_table.lower()),
                        sql.SQL(", ").join(sql.Identifier(c.lower()) for c in fk.references_columns),
                    )
                )
        # The read-only role of docs/analyst.md: it can log in, use the schema and SELECT, nothing else.
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        admin.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(role)))
        admin.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
        admin.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(sql.Identifier(role)))
        yield LoadedChinook(schema=schema, role=role, admin=admin_user)
    finally:
        lite.close()
        admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()


def _database(loaded: LoadedChinook, user: str) -> Any:
    from stratus.sql.postgres import PostgresDatabase, PostgresTarget

    return PostgresDatabase(
        PostgresTarget(host=HOST, port=PORT, database=DATABASE, user=user, schema=loaded.schema, sslmode="disable"),
        None,
    )


def _counts(loaded: LoadedChinook) -> dict[str, int]:
    database = _database(loaded, loaded.admin)
    result = database.execute(
        "SELECT (SELECT COUNT(*) FROM album), (SELECT COUNT(*) FROM track), (SELECT COUNT(*) FROM customer)",
        ExecutionLimits(),
    )
    database.dispose()
    return dict(zip(["album", "track", "customer"], result.rows[0], strict=True))


@pytest.mark.parametrize("user", ["role", "admin"])
def test_the_connection_refuses_writes_even_without_the_guard(chinook_pg: LoadedChinook, user: str) -> None:
    # Given layer one bypassed, and even a role that could write (admin): the transaction itself is read-only
    database = _database(chinook_pg, chinook_pg.role if user == "role" else chinook_pg.admin)
    before = _counts(chinook_pg)
    for statement in (
        "DELETE FROM album",
        "UPDATE track SET unitprice = 0",
        "INSERT INTO artist (artistid, name) VALUES (9999, 'x')",
        "DROP TABLE genre",
        "CREATE TABLE pwned (x int)",
        "WITH d AS (DELETE FROM album RETURNING *) SELECT * FROM d",
        "SET TRANSACTION READ WRITE",
        "SELECT 1; DELETE FROM album",
        "COPY album TO STDOUT",
        "SELECT set_config('default_transaction_read_only', 'off', false); DELETE FROM album",
        "SELECT nextval('pg_catalog.pg_class')",
    ):
        with pytest.raises(QueryFailed):
            database.execute(statement, ExecutionLimits())
    database.dispose()
    # Then nothing changed
    assert _counts(chinook_pg) == before == {"album": 347, "track": 3503, "customer": 59}


def test_time_and_row_limits_on_postgres(chinook_pg: LoadedChinook) -> None:
    database = _database(chinook_pg, chinook_pg.role)
    with pytest.raises(QueryFailed) as slow:
        database.execute("SELECT pg_sleep(3)", ExecutionLimits(timeout_s=0.5))
    assert slow.value.type_slug == "query-timeout"
    many = database.execute("SELECT trackid FROM track", ExecutionLimits(max_rows=10))
    assert many.row_count == 10 and many.truncated_by == "rows"
    plan = database.explain("SELECT COUNT(*) FROM track", ExecutionLimits())
    assert plan.dialect == "postgres" and any("Scan" in line or "Aggregate" in line for line in plan.lines)
    database.dispose()


def test_gold_sql_gives_the_same_results_on_postgres_as_on_sqlite(chinook_pg: LoadedChinook, tmp_path: Path) -> None:
    from stratus.sql.guard import validate
    from stratus.sql.sqlite import SqliteDatabase
    from tests.unit.analyst.chinook import chinook_sample

    postgres = _database(chinook_pg, chinook_pg.role)
    catalog: Catalog = postgres.introspect()
    assert catalog.dialect == "postgres" and catalog.table("track") is not None
    assert any(fk.references_table == "genre" for fk in catalog.table("track").foreign_keys)  # type: ignore[union-attr]
    lite = SqliteDatabase(chinook_sample(tmp_path))
    limits = ExecutionLimits(max_rows=5000)
    compared = 0
    for pair in gold_pairs():
        if not pair["executes_on_lerocha_chinook"] or "LIKE" in pair["sql"]:
            continue  # PostgreSQL's LIKE is case-sensitive where SQLite's is not
        checked = validate(gold_sql(pair), catalog, max_rows=5000)
        try:
            on_pg = postgres.execute(checked.sql, limits)
        except QueryFailed as error:
            # grouping_error, or a "Quoted" mixed-case name: SQL written for SQLite only
            assert error.extensions.get("engine_error") in ("42803", "42P01"), error.detail
            continue
        on_lite = lite.execute(gold_sql(pair), limits)
        assert result_key(on_pg.rows) == result_key(_normalise_lite(on_lite.rows)), pair["id"]
        compared += 1
    postgres.dispose()
    assert compared >= 36


def _normalise_lite(rows: list[list[Any]]) -> list[list[Any]]:
    """SQLite stores timestamps as text ('2021-01-01 00:00:00'); PostgreSQL returns ISO 8601."""
    return [
        [
            v.replace(" ", "T") if isinstance(v, str) and len(v) == 19 and v[4] == "-" and v[10] == " " else v
            for v in row
        ]
        for row in rows
    ]


def test_connect_ask_and_explain_on_postgres_with_the_password_kept_secret(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, chinook_pg: LoadedChinook
) -> None:
    password = "s3cr3t-" + secrets.token_hex(6)
    # Given a PostgreSQL database connected by URL (trust auth ignores the password; it is still kept safe)
    response = client.post(
        "/analyst/databases/connect",
        json={
            "kind": "postgres",
            "name": "chinook on postgres",
            "url": f"postgresql://{chinook_pg.role}:{password}@127.0.0.1:5432/test?sslmode=disable",
            "schema": chinook_pg.schema,
        },
        headers=auth(tenant_a),
    )
    assert response.status_code == 201, response.text
    database = response.json()
    # Then the password is in Secrets Manager and in no response
    assert password not in response.text and database["has_secret"] is True
    listing = client.get("/analyst/databases", headers=auth(tenant_a))
    assert password not in listing.text and listing.json()["items"][0]["source"]["user"] == chinook_pg.role
    stored = aws.client("secretsmanager").list_secrets()["SecretList"]
    assert [s["Name"] for s in stored if "tenant-a" in s["Name"]] == [
        f"stratus/analyst/dev/tenant-a/{database['database_id']}"
    ]

    # When questions are asked, Then the offline model answers them on PostgreSQL
    session_id = open_session(client, tenant_a, database["database_id"])
    count = ask(client, tenant_a, session_id, question="How many albums are there?").json()
    assert count["rows"] == [[347]] and count["validation"]["dialect"] == "postgres"
    per_genre = ask(client, tenant_a, session_id, question="How many tracks are there per genre?").json()
    assert per_genre["status"] == "answered", per_genre
    assert {r[0]: r[1] for r in per_genre["rows"]}["Rock"] == 1297
    explained = client.get(f"/analyst/queries/{per_genre['query_id']}/explain", headers=auth(tenant_a)).json()
    assert explained["plan_dialect"] == "postgres" and explained["joins"][0]["right"] == "genre"

    # And the same attack the guard refuses is refused here too
    refused = ask(client, tenant_a, session_id, sql="SELECT usename FROM pg_catalog.pg_user")
    assert refused.status_code == 422 and refused.json()["reason"] == "system_catalog"


REFUSED_CONNECTIONS = [
    ("postgresql://u:p@10.1.2.3:5432/test", 403),
    ("postgresql://u:p@169.254.169.254:5432/test", 403),
    ("postgresql://u:p@evil.example.com:5432/test", 403),
    ("postgresql://u:p@127.0.0.1:5432/test?host=evil.example.com", 422),
    ("postgresql://u:p@127.0.0.1:5432/test?options=-c%20default_transaction_read_only%3Doff", 422),
    ("postgresql://u:p@127.0.0.1,evil.example.com:5432/test", 422),
    ("mysql://u:p@127.0.0.1:3306/test", 422),
]


def test_connection_strings_to_other_hosts_or_with_options_are_refused(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey
) -> None:
    for url, status in REFUSED_CONNECTIONS:
        response = client.post(
            "/analyst/databases/connect", json={"kind": "postgres", "name": "x", "url": url}, headers=auth(tenant_a)
        )
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json" and "p@" not in response.text
        # the operator's allowlist (locally: loopback) is never shown to a tenant
        assert "allowed_hosts" not in response.json() and "localhost" not in response.text, response.text
    # Nothing was stored and no secret was created
    assert client.get("/analyst/databases", headers=auth(tenant_a)).json()["items"] == []
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []


@contextmanager
def _banner_service(banner: bytes) -> Iterator[int]:
    """A TCP service on loopback that is not PostgreSQL: it greets every connection with ``banner`` and hangs up."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            with connection:
                connection.sendall(banner)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_mistakes_get_one_generic_422_and_the_driver_text_stays_in_the_logs(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, caplog: pytest.LogCaptureFixture
) -> None:
    from stratus.sql import CONNECT_FAILED

    admin, existing_role = _admin_connection()
    admin.close()
    banner = b"SSH-2.0-OpenSSH_9.6 internal-bastion-7\r\n"
    with _banner_service(banner) as other_service:
        # Given a wrong port (closed), a port where another service answers, a role and a database that do not exist
        mistakes = {
            "closed port": f"postgresql://analyst:pw@127.0.0.1:{_closed_port()}/test?sslmode=disable",
            "another service": f"postgresql://analyst:pw@127.0.0.1:{other_service}/test?sslmode=disable",
            "unknown role": "postgresql://no_such_role_x:pw@127.0.0.1:5432/test?sslmode=disable",
            "unknown database": f"postgresql://{existing_role}:pw@127.0.0.1:5432/no_such_database_x?sslmode=disable",
        }
        answers = {}
        for cause, url in mistakes.items():
            response = client.post(
                "/analyst/databases/connect",
                json={"kind": "postgres", "name": "x", "url": url},
                headers=auth(tenant_a),
            )
            answers[cause] = response
    # Then each is the caller's mistake (422), with one message that does not tell the causes apart
    for cause, response in answers.items():
        assert response.status_code == 422, (cause, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["detail"] == CONNECT_FAILED and problem["type"].endswith("connection-failed"), cause
        for leaked in ("SSH", "bastion", "no_such", "refused", "does not exist", "role", "server closed", "pw@"):
            assert leaked not in response.text.replace("role_", ""), (cause, leaked, response.text)
    assert len({r.json()["detail"] for r in answers.values()}) == 1
    # And the driver's text went to the log for the operator
    assert any("postgres connect failed" in record.getMessage() for record in caplog.records)
    # And nothing was stored, no secret created
    assert client.get("/analyst/databases", headers=auth(tenant_a)).json()["items"] == []
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []


def test_ipv6_loopback_passes_the_host_check_where_loopback_is_allowed(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, chinook_pg: LoadedChinook
) -> None:
    # Given ::1, in the default local allowlist (it was refused as "link-local or reserved")
    response = client.post(
        "/analyst/databases/connect",
        json={
            "kind": "postgres",
            "name": "over ipv6",
            "host": "::1",
            "database": DATABASE,
            "user": chinook_pg.role,
            "schema": chinook_pg.schema,
            "sslmode": "disable",
        },
        headers=auth(tenant_a),
    )
    # Then the host is accepted: connected, or (a server listening on IPv4 only) the generic connection answer
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert response.json()["type"].endswith("connection-failed"), response.text
    else:
        assert response.json()["source"]["host"] == "::1"


def test_the_catalog_comes_from_pg_catalog_with_keys_views_and_plain_type_names() -> None:
    from psycopg import sql

    from stratus.sql.postgres import PostgresDatabase, PostgresTarget

    admin, admin_user = _admin_connection()
    schema = f"analyst_shape_{secrets.token_hex(4)}"
    try:
        # Given tables with a composite primary key, a composite foreign key, a view and assorted types
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        admin.execute(
            sql.SQL(
                "CREATE TABLE {s}.artist (artistid int PRIMARY KEY, name varchar(120), born timestamp, tags text[]);"
                "CREATE TABLE {s}.album (albumid int, part int, artistid int REFERENCES {s}.artist (artistid),"
                " title text NOT NULL, price numeric(10,2), PRIMARY KEY (albumid, part));"
                "CREATE TABLE {s}.track (trackid int PRIMARY KEY, albumid int, part int,"
                " FOREIGN KEY (part, albumid) REFERENCES {s}.album (part, albumid));"
                "CREATE VIEW {s}.names AS SELECT name FROM {s}.artist;"
                "INSERT INTO {s}.artist VALUES (1, 'AC/DC', '1973-11-01', '{{rock}}'), (2, 'Accept', NULL, NULL);"
                "INSERT INTO {s}.album VALUES (1, 1, 1, 'High Voltage', 9.99)"
            ).format(s=sql.Identifier(schema))
        )
        database = PostgresDatabase(
            PostgresTarget(host=HOST, port=PORT, database=DATABASE, user=admin_user, schema=schema, sslmode="disable"),
            None,
        )
        # When it is introspected
        catalog = database.introspect()
        database.dispose()
    finally:
        admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        admin.close()
    # Then tables and views are listed by name, with their keys in key order
    assert [t.name for t in catalog.tables] == ["album", "artist", "names", "track"]
    album, artist, names, track = catalog.tables
    assert [c.name for c in album.columns if c.primary_key] == ["albumid", "part"]
    assert album.foreign_keys[0].model_dump() == {
        "columns": ["artistid"], "references_table": "artist", "references_columns": ["artistid"]
    }  # fmt: skip
    assert track.foreign_keys[0].columns == ["part", "albumid"]
    assert track.foreign_keys[0].references_columns == ["part", "albumid"]
    # And types read as people write them, with nullability, samples and the values of short text columns
    types = {c.name: c.type for c in artist.columns}
    assert types == {"artistid": "INTEGER", "name": "VARCHAR(120)", "born": "TIMESTAMP", "tags": "TEXT[]"}
    assert album.column("title").nullable is False and album.column("price").type == "NUMERIC(10,2)"  # type: ignore[union-attr]
    assert sorted(artist.column("name").distinct_values or []) == ["AC/DC", "Accept"]  # type: ignore[union-attr]
    assert artist.column("tags").distinct_values is None  # type: ignore[union-attr]
    assert artist.row_count == 2 and names.row_count == 2 and track.row_count == 0


def test_one_connection_is_reused_between_executions_and_replaced_after_dispose(chinook_pg: LoadedChinook) -> None:
    database = _database(chinook_pg, chinook_pg.role)
    first = database.execute("SELECT pg_backend_pid()", ExecutionLimits()).rows
    again = database.execute("SELECT pg_backend_pid()", ExecutionLimits()).rows
    assert first == again
    database.dispose()
    assert database.execute("SELECT pg_backend_pid()", ExecutionLimits()).rows != first
    database.dispose()
