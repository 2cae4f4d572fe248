"""Every model call of a question, repairs included, is one usage event of the asking key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stratus.ai import Usage
from stratus.local.embedded import EmbeddedAws
from tests.integration.analyst.conftest import ask, connect_sample, open_session
from tests.integration.conftest import TenantKey
from tests.integration.metering import key_id_of, ledger_events, model_calls, usage_rows
from tests.unit.analyst.test_nl_to_sql import ScriptedChatModel

__all__ = ["model_calls"]


@pytest.fixture
def scripted(aws: EmbeddedAws) -> Iterator[ScriptedChatModel]:
    """The analyst's model path: a scripted model behind stratus.ai's metered wrapper, as get_chat_model wraps one."""
    from analyst.app import app
    from analyst.generation import ModelSqlGenerator
    from analyst.queries import QueryService
    from analyst.settings import get_analyst_settings
    from analyst.wiring import analyst_repository, analyst_sources, query_service
    from stratus.ai.chat import MeteredChatModel

    model = ScriptedChatModel({})
    generator = ModelSqlGenerator(MeteredChatModel(model))  # type: ignore[arg-type]  # a generate-only script
    service = QueryService(get_analyst_settings(), analyst_repository(), analyst_sources(), generator=generator)
    app.dependency_overrides[query_service] = lambda: service
    yield model
    app.dependency_overrides.pop(query_service, None)


def test_each_model_call_of_a_question_with_its_repairs_is_one_usage_event_of_the_key(
    client: TestClient, tenant_a: TenantKey, scripted: ScriptedChatModel, model_calls: list[Usage]
) -> None:
    # Given a model whose first answer is refused (a write) and whose repair is correct
    session_id = open_session(client, tenant_a, connect_sample(client, tenant_a)["database_id"])
    scripted.script["How many artists are there?"] = [
        '{"sql": "DELETE FROM Artist"}',
        '{"sql": "SELECT COUNT(*) FROM Artist"}',
    ]

    # When the question is asked
    answered = ask(client, tenant_a, session_id, question="How many artists are there?")
    assert answered.status_code == 200, answered.text
    assert answered.json()["generator"]["attempts"] == 2

    # Then GET /platform/usage shows the two model calls under the key that asked
    assert len(model_calls) == 2
    [row] = usage_rows(client, tenant_a.api_key, "analyst")
    assert (row["calls"], row["model"], row["key_id"]) == (2, "scripted", key_id_of(tenant_a.api_key))
    assert row["input_tokens"] == 20 and row["output_tokens"] == 20
    assert len(ledger_events(tenant_a.tenant_id)) == 2
