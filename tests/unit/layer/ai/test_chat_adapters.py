"""Bedrock and OpenAI chat adapters: retries, Retry-After, and errors mapped to 502/503, never SDK types.

The LangChain model is a scripted fake injected through the adapter's constructor; one test runs the
real ``ChatBedrockConverse`` against a botocore Stubber.
"""

from __future__ import annotations

from typing import Any

import boto3
import openai
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.stub import Stubber
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from stratus.ai import Passage, answer_request
from stratus.ai.providers.bedrock import BedrockChatModel
from stratus.ai.providers.openai import OpenAIChatModel
from stratus.config import reset_settings
from stratus.config.ai import BEDROCK_CHAT_MODEL_ID, OPENAI_CHAT_MODEL_ID, AiSettings
from stratus.errors import StratusError, UpstreamFailed, UpstreamUnavailable
from stratus.retry import RetriesExhausted, RetryPolicy

from .conftest import RecordedSleeps
from .fakes import Reply, ScriptedChatModel, bedrock_error, openai_error

PASSAGES = [Passage(citation_id=4, document_id="faq", chunk_id="faq-1", text="Refunds take five days.")]
REQUEST = answer_request("How long do refunds take?", PASSAGES)


def bedrock(llm: Any, sleeps: RecordedSleeps, attempts: int = 3) -> BedrockChatModel:
    policy = RetryPolicy(max_attempts=attempts, sleep=sleeps)
    return BedrockChatModel(llm, model_id=BEDROCK_CHAT_MODEL_ID, policy=policy)


def openai_model(llm: Any, sleeps: RecordedSleeps, attempts: int = 3) -> OpenAIChatModel:
    policy = RetryPolicy(max_attempts=attempts, sleep=sleeps)
    return OpenAIChatModel(llm, model_id=OPENAI_CHAT_MODEL_ID, policy=policy)


def test_bedrock_throttling_is_retried_after_the_retry_after_and_then_answers(sleeps: RecordedSleeps) -> None:
    # Given Bedrock throttles twice, asking for 2 s, then answers with content blocks
    llm = ScriptedChatModel(
        [
            bedrock_error("ThrottlingException", 429, retry_after="2"),
            bedrock_error("ThrottlingException", 429, retry_after="2"),
            Reply("Refunds take five days [4].", input_tokens=1000, output_tokens=200, blocks=True),
        ]
    )
    # When the adapter generates
    result = bedrock(llm, sleeps).generate(REQUEST)
    # Then it waited as told, answered, cited the passage and priced the call from the price table
    assert sleeps == [2.0, 2.0]
    assert result.text == "Refunds take five days [4]."
    assert result.citations == (4,)
    assert (result.usage.provider, result.usage.offline) == ("bedrock", False)
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1000, 200)
    assert result.usage.cost_usd == pytest.approx(1000 / 1000 * 0.0008 + 200 / 1000 * 0.004)


def test_bedrock_throttling_past_the_budget_is_a_503_not_a_client_error(sleeps: RecordedSleeps) -> None:
    llm = ScriptedChatModel([bedrock_error("ThrottlingException", 429) for _ in range(3)])
    with pytest.raises(UpstreamUnavailable) as raised:
        bedrock(llm, sleeps, attempts=3).generate(REQUEST)
    assert isinstance(raised.value, RetriesExhausted)
    assert not isinstance(raised.value, ClientError)
    assert raised.value.status == 503
    assert "ThrottlingException" in raised.value.detail
    assert len(llm.calls) == 3


def test_a_bedrock_validation_error_is_a_502_at_once_and_hides_the_provider_message(sleeps: RecordedSleeps) -> None:
    # Given Bedrock rejects the request, its message naming an account
    secret = "User: arn:aws:iam::123456789012:role/x is not authorized"
    llm = ScriptedChatModel([bedrock_error("AccessDeniedException", 403, message=secret)])
    # When the adapter generates
    with pytest.raises(UpstreamFailed) as raised:
        bedrock(llm, sleeps).generate(REQUEST)
    # Then it is a 502 naming the error code, without retries and without the account id
    assert raised.value.status == 502
    assert raised.value.detail == "Bedrock rejected the generate call (AccessDeniedException)"
    assert "123456789012" not in raised.value.detail
    assert len(llm.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
        bedrock_error("ModelNotReadyException", 429),
        bedrock_error("ServiceUnavailableException", 503),
        bedrock_error("SomethingNew", 500),
    ],
)
def test_bedrock_timeouts_and_outages_are_retried_then_503(error: Exception, sleeps: RecordedSleeps) -> None:
    llm = ScriptedChatModel([error, Reply("Recovered.")])
    assert bedrock(llm, sleeps).generate(REQUEST).text == "Recovered."
    assert len(sleeps) == 1


def test_openai_rate_limit_honours_retry_after(sleeps: RecordedSleeps) -> None:
    llm = ScriptedChatModel(
        [openai_error(openai.RateLimitError, 429, headers={"retry-after": "3"}), Reply("Five days [4].")]
    )
    result = openai_model(llm, sleeps).generate(REQUEST)
    assert sleeps == [3.0]
    assert result.text == "Five days [4]."
    assert result.usage.provider == "openai"
    assert result.usage.cost_usd == pytest.approx(120 / 1000 * 0.00015 + 30 / 1000 * 0.0006)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (openai_error(openai.RateLimitError, 429, code="insufficient_quota"), 502),
        (openai_error(openai.AuthenticationError, 401), 502),
        (openai_error(openai.BadRequestError, 400, code="context_length_exceeded"), 502),
        (openai_error(openai.InternalServerError, 500), 503),
    ],
)
def test_openai_errors_map_by_type_status_and_code(error: Exception, status: int, sleeps: RecordedSleeps) -> None:
    # Given an OpenAI error that keeps happening
    llm = ScriptedChatModel([error, error, error])
    # When the adapter generates
    with pytest.raises(StratusError) as raised:
        openai_model(llm, sleeps).generate(REQUEST)
    # Then the caller sees a domain error with the right status, never the SDK's type
    assert raised.value.status == status
    assert not isinstance(raised.value, openai.OpenAIError)
    assert len(llm.calls) == (3 if status == 503 else 1)


def test_openai_timeouts_are_503(sleeps: RecordedSleeps) -> None:
    timeout = openai.APITimeoutError(request=openai_error(openai.InternalServerError, 500).request)
    llm = ScriptedChatModel([timeout, timeout])
    with pytest.raises(UpstreamUnavailable, match="did not answer"):
        openai_model(llm, sleeps, attempts=2).generate(REQUEST)


def test_stream_yields_chunks_that_add_up_and_ends_with_provider_usage(sleeps: RecordedSleeps) -> None:
    llm = ScriptedChatModel([Reply("Refunds take five days [4].", input_tokens=80, output_tokens=9)])
    chunks = list(openai_model(llm, sleeps).stream(REQUEST))
    assert [chunk.text for chunk in chunks[:-1]] == ["Refunds ", "take ", "five ", "days ", "[4]."]
    assert chunks[-1].text == "" and chunks[-1].citations == (4,)
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.input_tokens, chunks[-1].usage.output_tokens) == (80, 9)


def test_a_stream_is_retried_only_before_its_first_chunk(sleeps: RecordedSleeps) -> None:
    # Given a stream throttled when opened, then cut off after two words
    llm = ScriptedChatModel(
        [
            bedrock_error("ThrottlingException", 429),
            Reply("Refunds take five days.", fail_after_words=2, error=bedrock_error("modelStreamErrorException", 424)),
        ]
    )
    received: list[str] = []
    # When the caller consumes the stream
    with pytest.raises(UpstreamUnavailable, match="modelStreamErrorException"):
        for chunk in bedrock(llm, sleeps).stream(REQUEST):
            received.append(chunk.text)
    # Then the opening was retried once, the words already sent were not repeated, and no retry followed
    assert len(llm.calls) == 2
    assert received == ["Refunds ", "take "]


def test_the_prompt_carries_the_numbered_passages_and_the_request_limits(sleeps: RecordedSleeps) -> None:
    llm = ScriptedChatModel([Reply("ok")])
    bedrock(llm, sleeps).generate(REQUEST.model_copy(update={"max_tokens": 300}))
    messages, options = llm.calls[0]
    assert [message.type for message in messages] == ["system", "human"]
    assert "[4] (faq)\nRefunds take five days." in str(messages[-1].content)
    assert options == {"max_tokens": 300, "temperature": 0.0}


def test_a_real_langchain_chat_model_works_through_the_adapter(sleeps: RecordedSleeps) -> None:
    # Given LangChain's own fake chat model, which reports no token usage
    replies = [AIMessage(content="Five days [4]."), AIMessage(content="Five days [4].")]
    llm = GenericFakeChatModel(messages=iter(replies))
    model = openai_model(llm, sleeps)
    # When it generates and streams
    result = model.generate(REQUEST)
    streamed = list(model.stream(REQUEST))
    # Then the text comes through and usage is estimated with the offline tokenizer
    assert result.text == "Five days [4]." == "".join(chunk.text for chunk in streamed)
    assert result.usage.output_tokens > 0 and result.usage.input_tokens > 20


def test_chat_bedrock_converse_replies_and_throttles_map_through_the_real_sdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a real bedrock-runtime client whose responses are stubbed: throttled once, then an answer
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    reset_settings()
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    stubber.add_response(
        "converse",
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "Five days [4]."}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 50, "outputTokens": 6, "totalTokens": 56},
            "metrics": {"latencyMs": 120},
        },
    )
    settings = AiSettings(model_provider="bedrock", model_max_attempts=2, model_backoff_base_s=0)
    try:
        with stubber:
            # When ChatBedrockConverse, built by the adapter, generates
            result = BedrockChatModel.from_settings(settings, client=client).generate(REQUEST)
            stubber.assert_no_pending_responses()
    finally:
        reset_settings()
    # Then the throttle was retried and the reply, citations and usage came through
    assert result.text == "Five days [4]."
    assert result.citations == (4,)
    assert (result.usage.input_tokens, result.usage.output_tokens) == (50, 6)
