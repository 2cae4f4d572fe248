"""Every model call of a question, answered whole or streamed, is one usage event of the asking key."""

from __future__ import annotations

from stratus.ai import Usage
from tests.integration.conftest import TenantKey, auth
from tests.integration.docqa.conftest import OWNERSHIP_MD, Stack, ask, upload_file
from tests.integration.metering import key_id_of, ledger_events, model_calls, usage_rows

__all__ = ["model_calls"]


def test_each_model_call_of_a_question_and_a_streamed_question_is_one_usage_event_of_the_key(
    docqa_stack: Stack, tenant_a: TenantKey, model_calls: list[Usage]
) -> None:
    # Given a tenant with one ingested document (ingestion embeds; it makes no model call)
    client = docqa_stack.client
    upload_file(client, tenant_a, OWNERSHIP_MD, "text/markdown")
    docqa_stack.aws.drain_queues()
    assert model_calls == []

    # When a question is answered whole, and another one streamed as server-sent events
    ask(client, tenant_a, "What are the ownership rules?")
    streamed = client.post(
        "/docqa/query",
        json={"question": "What happens when a variable goes out of scope?"},
        headers={**auth(tenant_a), "Accept": "text/event-stream"},
    )
    assert streamed.status_code == 200 and "event: done" in streamed.text, streamed.text

    # Then GET /platform/usage shows one call per model call, under the key that asked, with their tokens
    assert len(model_calls) >= 2
    [row] = usage_rows(client, tenant_a.api_key, "docqa")
    assert row["key_id"] == key_id_of(tenant_a.api_key)
    assert row["calls"] == len(model_calls)
    assert row["input_tokens"] == sum(call.input_tokens for call in model_calls)
    assert row["output_tokens"] == sum(call.output_tokens for call in model_calls)
    # And the stored events are the calls, none twice
    assert len(ledger_events(tenant_a.tenant_id)) == len(model_calls)
