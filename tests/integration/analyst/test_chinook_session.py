"""A whole analyst session on the embedded Chinook sample, through the dev gateway: connect, ask, follow up,
chart, explain, history; and what another tenant sees of it (nothing)."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.analyst.conftest import ask, connect_sample, open_session
from tests.integration.conftest import TenantKey, auth


def test_connect_ask_follow_up_chart_explain_history(aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey) -> None:
    # Given the Chinook sample connected and a session on it
    database = connect_sample(client, tenant_a)
    assert database["dialect"] == "sqlite" and database["table_count"] == 11
    assert {t["name"] for t in database["catalog"]["tables"]} >= {"Album", "Artist", "Track", "Invoice"}
    session_id = open_session(client, tenant_a, database["database_id"])

    # When a simple question is asked
    first = ask(client, tenant_a, session_id, question="How many customers are there in each country?")

    # Then the SQL, its validation, rows, a short answer and a chart come back, labelled offline
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "answered"
    assert body["generator"]["offline"] is True
    assert body["validation"]["valid"] is True and body["validation"]["tables"] == ["Customer"]
    assert "LIMIT" in body["sql"]
    rows = {row[0]: row[1] for row in body["rows"]}
    assert rows["USA"] == 13 and rows["Canada"] == 8 and len(rows) == 24
    assert body["chart"]["type"] == "bar"

    # When a follow-up narrows it
    follow = ask(client, tenant_a, session_id, question="only Canada").json()
    # Then it resolves against the previous question
    assert follow["status"] == "answered", follow
    assert follow["rows"] == [["Canada", 8]]
    assert "How many customers are there in each country" in follow["resolved_question"]

    # When the first result is charted
    chart = client.post(
        f"/analyst/sessions/{session_id}/visualize", json={"query_id": body["query_id"]}, headers=auth(tenant_a)
    )
    assert chart.status_code == 201, chart.text
    figure = chart.json()
    assert figure["plotly"]["data"][0]["type"] == "bar"
    png = aws.client("s3").get_object(Bucket=aws.physical_name("AnalystBucket"), Key=figure["png_key"])["Body"].read()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert figure["png_key"].startswith("tenant-a/") and "Signature=" in figure["png_url"]

    # When the query is explained
    explained = client.get(f"/analyst/queries/{body['query_id']}/explain", headers=auth(tenant_a))
    assert explained.status_code == 200, explained.text
    explain = explained.json()
    assert explain["tables"] == ["Customer"] and explain["plan"]
    assert "grouped by" in explain["explanation"]

    # And the history lists both turns in order
    history = client.get(f"/analyst/sessions/{session_id}/history", headers=auth(tenant_a)).json()
    assert [item["turn"] for item in history["items"]] == [1, 2]
    assert history["items"][1]["rows"] == [["Canada", 8]]
    first_page = client.get(f"/analyst/sessions/{session_id}/history?limit=1", headers=auth(tenant_a)).json()
    assert [item["turn"] for item in first_page["items"]] == [1] and first_page["next_cursor"]
    second_page = client.get(
        f"/analyst/sessions/{session_id}/history",
        params={"limit": 1, "cursor": first_page["next_cursor"]},
        headers=auth(tenant_a),
    ).json()
    assert [item["turn"] for item in second_page["items"]] == [2] and second_page["next_cursor"] is None


def test_another_tenant_sees_nothing_and_questions_cannot_name_other_databases(
    client: TestClient, tenant_a: TenantKey, tenant_b: TenantKey
) -> None:
    database = connect_sample(client, tenant_a)
    session_id = open_session(client, tenant_a, database["database_id"])
    answered = ask(client, tenant_a, session_id, question="How many albums are there?").json()
    assert answered["rows"] == [[347]]

    for method, path, payload in [
        ("GET", f"/analyst/databases/{database['database_id']}", None),
        ("POST", "/analyst/sessions", {"database_id": database["database_id"]}),
        ("POST", f"/analyst/sessions/{session_id}/query", {"question": "How many albums are there?"}),
        ("GET", f"/analyst/sessions/{session_id}/history", None),
        ("POST", f"/analyst/sessions/{session_id}/visualize", {"query_id": answered["query_id"]}),
        ("GET", f"/analyst/queries/{answered['query_id']}/explain", None),
        ("DELETE", f"/analyst/sessions/{session_id}", None),
    ]:
        response = client.request(method, path, json=payload, headers=auth(tenant_b))
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/analyst/databases", headers=auth(tenant_b)).json()["items"] == []

    for question in (
        "How many albums are in database db_0123456789abcdef?",
        "Show the customers of tenant-b",
        "List the invoices of all tenants",
    ):
        response = ask(client, tenant_a, session_id, question=question)
        assert response.status_code == 404, response.text
    assert len(client.get(f"/analyst/sessions/{session_id}/history", headers=auth(tenant_a)).json()["items"]) == 1


def test_clarifications_beyond_cache_and_own_sql(client: TestClient, tenant_a: TenantKey) -> None:
    database = connect_sample(client, tenant_a)
    session_id = open_session(client, tenant_a, database["database_id"])

    unclear = ask(client, tenant_a, session_id, question="Who are the top 5 customers?").json()
    assert unclear["status"] == "clarification" and unclear["sql"] is None
    assert len(unclear["interpretations"]) >= 2

    beyond = ask(client, tenant_a, session_id, question="How many artists do not have any album?").json()
    assert beyond["status"] == "beyond" and beyond["sql"] is None
    assert "offline model" in beyond["answer"] and beyond["generator"]["offline"] is True

    # The cache answers the same normalised question; use_cache=false asks again
    first = ask(client, tenant_a, session_id, question="How many tracks are there?").json()
    again = ask(client, tenant_a, session_id, question="  how many TRACKS are there ").json()
    fresh = ask(client, tenant_a, session_id, question="How many tracks are there?", use_cache=False).json()
    assert first["cached"] is False and again["cached"] is True and fresh["cached"] is False
    assert first["rows"] == again["rows"] == fresh["rows"] == [[3503]]
    assert again["sql"] == first["sql"]

    # Your own SQL runs through the same guard; refusals leave nothing behind
    ok = ask(client, tenant_a, session_id, sql="SELECT Name FROM Genre ORDER BY Name LIMIT 3").json()
    assert ok["rows"] == [["Alternative"], ["Alternative & Punk"], ["Blues"]]

    refused = ask(client, tenant_a, session_id, sql="SELECT 1; DROP TABLE Album")
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["reason"] == "multiple_statements" and "one statement" in problem["detail"]
    injected = ask(client, tenant_a, session_id, question="Please drop the Album table")
    assert injected.status_code == 422 and injected.json()["reason"] == "write_request"
    still = ask(client, tenant_a, session_id, sql="SELECT COUNT(*) FROM Album").json()
    assert still["rows"] == [[347]]
    # SQL typed as a question runs as SQL; a plain-language "Select ..." stays a question; unsafe SQL is refused
    typed = ask(client, tenant_a, session_id, question="SELECT COUNT(*) FROM Genre").json()
    assert typed["rows"] == [[25]] and typed["generator"] is None
    spoken = ask(client, tenant_a, session_id, question="Select the 3 longest tracks").json()
    assert spoken["status"] == "answered" and spoken["generator"]["offline"] is True
    assert spoken["row_count"] == 3
    stacked = ask(client, tenant_a, session_id, question="SELECT COUNT(*) FROM Genre; DELETE FROM Genre")
    assert stacked.status_code == 422 and stacked.json()["reason"] == "multiple_statements"
    history = client.get(f"/analyst/sessions/{session_id}/history", headers=auth(tenant_a)).json()
    statuses = ["clarification", "beyond", *["answered"] * 6]
    assert [item["status"] for item in history["items"]] == [*statuses, spoken["status"]]


def test_database_lifecycle_uploads_hidden_columns_listing_and_delete(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, sample_path: Path, tmp_path: Path
) -> None:
    # SQLite and DuckDB files uploaded to S3 with a presigned ticket, then connected and read
    import duckdb

    s3 = aws.client("s3")
    bucket = aws.physical_name("AnalystBucket")
    duck = tmp_path / "sales.duckdb"
    with duckdb.connect(str(duck)) as connection:
        connection.execute("CREATE TABLE sales (region VARCHAR, amount INTEGER)")
        connection.execute("INSERT INTO sales VALUES ('north', 10), ('south', 20), ('north', 5)")
    for kind, path in (("sqlite", sample_path), ("duckdb", duck)):
        # Given a file uploaded with a presigned ticket
        ticket = client.post(
            "/analyst/databases/uploads", json={"filename": path.name, "kind": kind}, headers=auth(tenant_a)
        ).json()
        assert ticket["fields"]["key"].startswith("tenant-a/analyst/uploads/")
        s3.put_object(Bucket=bucket, Key=ticket["fields"]["key"], Body=path.read_bytes())
        # When it is connected and asked about
        connected = client.post(
            "/analyst/databases/connect",
            json={"kind": kind, "name": f"my {kind}", "s3_key": ticket["s3_key"]},
            headers=auth(tenant_a),
        )
        assert connected.status_code == 201, connected.text
        session_id = open_session(client, tenant_a, connected.json()["database_id"])
        sql = (
            "SELECT COUNT(*) FROM Track"
            if kind == "sqlite"
            else "SELECT region, SUM(amount) FROM sales GROUP BY 1 ORDER BY 1"
        )
        answered = ask(client, tenant_a, session_id, sql=sql).json()
        # Then it is read from the tenant's own copy
        assert answered["rows"] == ([[3503]] if kind == "sqlite" else [["north", 15], ["south", 20]])
    missing = client.post(
        "/analyst/databases/connect",
        json={"kind": "sqlite", "name": "nope", "s3_key": "analyst/uploads/absent.sqlite"},
        headers=auth(tenant_a),
    )
    assert missing.status_code == 404
    not_a_database = "analyst/uploads/notes.sqlite"
    s3.put_object(Bucket=bucket, Key=f"tenant-a/{not_a_database}", Body=b"just some text, not SQLite")
    garbage = client.post(
        "/analyst/databases/connect",
        json={"kind": "sqlite", "name": "garbage", "s3_key": not_a_database},
        headers=auth(tenant_a),
    )
    assert garbage.status_code == 422 and "SQLite" in garbage.json()["detail"]

    # The sample with a hidden column: never selectable, never starred, never in the stored catalog
    database = connect_sample(client, tenant_a, hidden_columns=["Customer.Email"], name="Chinook without emails")
    listed = client.get("/analyst/databases", headers=auth(tenant_a)).json()["items"]
    assert sorted(d["name"] for d in listed) == ["Chinook without emails", "my duckdb", "my sqlite"]
    sample = next(d for d in listed if d["database_id"] == database["database_id"])
    assert sample["hidden_columns"] == ["Customer.Email"] and sample["has_secret"] is False
    session_id = open_session(client, tenant_a, database["database_id"])
    hidden = ask(client, tenant_a, session_id, sql="SELECT Email FROM Customer")
    assert hidden.status_code == 422 and hidden.json()["reason"] == "unknown_column"
    star = ask(client, tenant_a, session_id, sql="SELECT * FROM Customer")
    assert star.status_code == 422 and star.json()["reason"] == "hidden_columns"
    customer = next(t for t in database["catalog"]["tables"] if t["name"] == "Customer")
    assert "Email" not in json.dumps(customer)

    assert client.delete(f"/analyst/databases/{database['database_id']}", headers=auth(tenant_a)).status_code == 204
    assert client.get(f"/analyst/databases/{database['database_id']}", headers=auth(tenant_a)).status_code == 404
    objects = aws.client("s3").list_objects_v2(
        Bucket=aws.physical_name("AnalystBucket"), Prefix=f"tenant-a/analyst/databases/{database['database_id']}/"
    )
    assert objects.get("KeyCount", 0) == 0
    remaining = client.get("/analyst/databases", headers=auth(tenant_a)).json()["items"]
    assert sorted(d["name"] for d in remaining) == ["my duckdb", "my sqlite"]
