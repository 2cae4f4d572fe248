"""The offline model: extractive, cited answers from the passages it is given, and honest about gaps."""

from __future__ import annotations

import pytest

from stratus.ai import ChatMessage, ChatRequest, Passage, answer_request, condense_question
from stratus.ai.providers.offline import CHAT_REPLY, NO_ANSWER, OfflineChatModel

from .conftest import RecordedSleeps

PASSAGES = (
    Passage(
        citation_id=1,
        document_id="billing-handbook",
        page=3,
        chunk_id="billing-3-0",
        text="Invoices are issued on the first day of each month. Unpaid balances older than thirty days "
        "block new deployments.",
        score=0.41,
    ),
    Passage(
        citation_id=2,
        document_id="security-guide",
        page=7,
        chunk_id="security-7-2",
        text="API keys can be rotated from the platform console. The previous key stays valid for one hour "
        "after rotation, so running jobs can finish.",
        score=0.38,
    ),
    Passage(
        citation_id=3,
        document_id="faq",
        chunk_id="faq-0-4",
        text="The refund policy for enterprise plans allows a full refund within 30 days of purchase.",
        score=0.12,
    ),
)


@pytest.fixture
def model() -> OfflineChatModel:
    return OfflineChatModel()


def test_answer_quotes_the_supporting_sentence_and_cites_its_passage(model: OfflineChatModel) -> None:
    # Given passages from three documents
    request = answer_request("How long does the previous API key stay valid after rotation?", PASSAGES)
    # When the offline model answers
    result = model.generate(request)
    # Then it quotes the security guide's sentence and cites it as [2]
    assert "The previous key stays valid for one hour after rotation" in result.text
    assert "[2]" in result.text
    assert result.citations == (2,)


def test_answer_cites_with_the_passage_citation_id_not_its_position(model: OfflineChatModel) -> None:
    passage = PASSAGES[2].model_copy(update={"citation_id": 9})
    result = model.generate(answer_request("Is there a refund for enterprise plans?", [passage]))
    assert result.citations == (9,)
    assert result.text.endswith("[9].")


def test_answer_says_plainly_when_no_passage_supports_it(model: OfflineChatModel) -> None:
    # Given passages that say nothing about the question's subject
    result = model.generate(answer_request("What is the capital of France?", PASSAGES))
    # Then the answer says so and cites nothing
    assert result.text == NO_ANSWER
    assert result.citations == ()


def test_answer_without_passages_says_so(model: OfflineChatModel) -> None:
    result = model.generate(answer_request("When are invoices issued?", []))
    assert result.text == NO_ANSWER
    assert result.citations == ()


def test_usage_is_labelled_offline_free_and_counts_real_tokens(model: OfflineChatModel) -> None:
    result = model.generate(answer_request("When are invoices issued?", PASSAGES))
    usage = result.usage
    assert (usage.provider, usage.offline, usage.cost_usd) == ("offline", True, 0.0)
    assert usage.model == model.model_id
    # the prompt holds three passages (well over 60 tokens); the answer is one sentence
    assert usage.input_tokens > 60
    assert 5 < usage.output_tokens < 40


def test_stream_yields_word_chunks_that_add_up_to_the_generated_answer(model: OfflineChatModel) -> None:
    # Given the same request answered whole and streamed
    request = answer_request("How do I rotate API keys?", PASSAGES)
    whole = model.generate(request)
    # When it is streamed
    chunks = list(model.stream(request))
    # Then the stream is incremental (word by word), ends with a usage-carrying chunk, and matches generate()
    text_chunks = [chunk for chunk in chunks if chunk.text]
    assert len(text_chunks) == len(whole.text.split())
    assert "".join(chunk.text for chunk in chunks) == whole.text
    assert chunks[-1].final and chunks[-1].usage is not None
    assert chunks[-1].citations == whole.citations == (2,)
    assert all(not chunk.final for chunk in chunks[:-1])


def test_simulated_latency_is_spent_before_the_first_token(sleeps: RecordedSleeps) -> None:
    model = OfflineChatModel(latency_s=0.8, sleep=sleeps)
    stream = model.stream(answer_request("When are invoices issued?", PASSAGES))
    assert sleeps == []
    next(stream)
    assert sleeps == [0.8]


def test_chat_purpose_states_that_it_is_the_offline_model(model: OfflineChatModel) -> None:
    request = ChatRequest(messages=(ChatMessage(role="user", content="Write me a poem"),), purpose="chat")
    result = model.generate(request)
    assert result.text == CHAT_REPLY
    assert "offline" in result.text
    assert result.usage.offline


HISTORY = (
    ChatMessage(role="user", content="What is the refund policy for enterprise plans?"),
    ChatMessage(role="assistant", content="A full refund within 30 days of purchase [3]."),
)


@pytest.mark.parametrize(
    ("follow_up", "standalone"),
    [
        ("What about startups?", "What is the refund policy for startups?"),
        ("And for startups?", "What is the refund policy for startups?"),
        ("How long does it take?", "How long does the refund policy for enterprise plans take?"),
        ("What are its limits?", "What are the limits of the refund policy for enterprise plans?"),
        ("How are invoices issued each month?", "How are invoices issued each month?"),
    ],
)
def test_condense_resolves_a_follow_up_against_the_previous_question(
    model: OfflineChatModel, follow_up: str, standalone: str
) -> None:
    assert condense_question(model, HISTORY, follow_up) == standalone


def test_condensed_question_retrieves_what_the_follow_up_meant(model: OfflineChatModel) -> None:
    # Given a follow-up that only makes sense with the history
    question = condense_question(model, HISTORY, "How long does it take?")
    # When it is answered from the passages
    result = model.generate(answer_request(question, PASSAGES, HISTORY))
    # Then the refund passage answers it
    assert result.citations == (3,)
