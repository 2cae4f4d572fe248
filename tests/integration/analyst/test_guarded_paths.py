"""Through the API: the model path's repair loop, the whole attack corpus, and databases uploaded to S3."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.analyst.conftest import ask, connect_sample, open_session
from tests.integration.conftest import TenantKey
from tests.unit.analyst.test_nl_to_sql import ScriptedChatModel

CORPUS = Path(__file__).resolve().parents[2] / "data" / "analyst_attacks.jsonl"


@pytest.fixture
def scripted(aws: EmbeddedAws) -> Iterator[ScriptedChatModel]:
    """The analyst with a scripted model instead of Bedrock/OpenAI (imported once the embedded AWS is up)."""
    from analyst.app import app
    from analyst.generation import ModelSqlGenerator
    from analyst.queries import QueryService
    from analyst.settings import get_analyst_settings
    from analyst.wiring import analyst_repository, analyst_sources, query_service

    model = ScriptedChatModel({})
    service = QueryService(
        get_analyst_settings(), analyst_repository(), analyst_sources(), generator=ModelSqlGenerator(model)
    )
    app.dependency_overrides[query_service] = lambda: service
    yield model
    app.dependency_overrides.pop(query_service, None)


def test_the_model_repairs_refused_and_failing_sql_a_bounded_number_of_times(
    client: TestClient, tenant_a: TenantKey, scripted: ScriptedChatModel
) -> None:
    database = connect_sample(client, tenant_a)
    session_id = open_session(client, tenant_a, database["database_id"])
    # Given a model whose first answers are a write and a misspelt column, then a correct query
    scripted.script["How many albums does AC/DC have?"] = [
        '{"sql": "DELETE FROM Album"}',
        '{"sql": "SELECT COUNT(*) FROM Album WHERE Artist = \'AC/DC\'"}',
        '{"sql": "SELECT COUNT(*) FROM Album JOIN Artist ON Album.ArtistId = Artist.ArtistId '
        "WHERE Artist.Name = 'AC/DC'\"}",
    ]
    # When the question is asked
    response = ask(client, tenant_a, session_id, question="How many albums does AC/DC have?")
    # Then the third attempt answers, and the refusals it repaired are reported
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"] == [[2]] and body["generator"] == {
        "provider": "bedrock", "model": "scripted", "offline": False, "attempts": 3
    }  # fmt: skip
    assert next(r["sql"] for r in body["repairs"]) == "DELETE FROM Album"
    assert "changes data" in body["repairs"][0]["error"] and "artist" in body["repairs"][1]["error"].lower()
    # And each repair request carried the previous errors back to the model
    assert "changes data" in scripted.requests[1].messages[-1].content

    # Given a model that never produces safe SQL, When asked, Then 422 after 1 + 2 repairs and nothing recorded
    scripted.script["Show all albums please"] = ['{"sql": "DROP TABLE Album"}'] * 3
    exhausted = ask(client, tenant_a, session_id, question="Show all albums please")
    assert exhausted.status_code == 422, exhausted.text
    problem = exhausted.json()
    assert problem["type"].endswith("sql-not-repaired") and len(problem["attempts"]) == 3
    assert ask(client, tenant_a, session_id, sql="SELECT COUNT(*) FROM Album").json()["rows"] == [[347]]


def test_the_attack_corpus_over_http_reads_nothing_but_allowed_tables(
    client: TestClient, tenant_a: TenantKey, sample_path: Path
) -> None:
    database = connect_sample(client, tenant_a)
    session_id = open_session(client, tenant_a, database["database_id"])
    before = hashlib.sha256(sample_path.read_bytes()).hexdigest()
    allowed = {t["name"] for t in database["catalog"]["tables"]}
    outcomes: Counter[int] = Counter()
    # Every fourth entry (all categories): the whole corpus runs in tests/unit/analyst/test_attack_corpus.py
    for line in CORPUS.read_text().splitlines()[::4]:
        entry = json.loads(line)
        field = "sql" if entry["kind"] == "sql" else "question"
        response = ask(client, tenant_a, session_id, **{field: entry["text"]})
        outcomes[response.status_code] += 1
        assert response.status_code in (200, 404, 422), (entry, response.text)
        if response.status_code == 200 and response.json()["status"] == "answered":
            assert set(response.json()["validation"]["tables"]) <= allowed, entry
        elif response.status_code != 200:
            assert response.headers["content-type"] == "application/problem+json"
    assert hashlib.sha256(sample_path.read_bytes()).hexdigest() == before
    print(f"\nattack corpus over HTTP: {dict(outcomes)}")
    assert outcomes[422] + outcomes[404] >= 60
