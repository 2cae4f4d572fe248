"""Grounded prompts: what a real model is sent, whatever the provider."""

from __future__ import annotations

from collections.abc import Iterator

from stratus.ai import ChatChunk, ChatMessage, ChatRequest, ChatResult, Passage, condense_question
from stratus.ai.prompts import cited_ids, render_prompt
from stratus.ai.rag import GROUNDED_SYSTEM_PROMPT, answer_request, condense_request
from stratus.ai.types import Provider, Usage

PASSAGES = (
    Passage(citation_id=1, document_id="handbook", page=2, chunk_id="h-2", text="Refunds take 5 days."),
    Passage(citation_id=2, document_id="faq", chunk_id="f-1", text="Support answers within one hour."),
)


class CannedModel:
    """A chat model that answers every request with the same text and remembers the requests."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.requests: list[ChatRequest] = []

    @property
    def provider(self) -> Provider:
        return "offline"

    @property
    def model_id(self) -> str:
        return "canned"

    def generate(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        usage = Usage(
            input_tokens=1, output_tokens=1, cost_usd=0, model="canned", provider="offline", offline=True, latency_ms=0
        )
        return ChatResult(text=self.text, usage=usage)

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        raise NotImplementedError


def test_the_answer_prompt_numbers_the_passages_with_their_sources_before_the_question() -> None:
    # Given a question with history and two passages
    history = [
        ChatMessage(role="user", content="Hi"),
        ChatMessage(role="assistant", content="Hello! Ask me about your documents."),
    ]
    request = answer_request("How long do refunds take?", PASSAGES, history)
    # When it is rendered for a model
    system, turns = render_prompt(request)
    # Then the system prompt demands grounded, cited answers and the last turn carries evidence + question
    assert system == GROUNDED_SYSTEM_PROMPT
    assert "[1]" in system and "do not answer" in system
    assert [turn.role for turn in turns] == ["user", "assistant", "user"]
    assert turns[-1].content == (
        "Passages:\n[1] (handbook, page 2)\nRefunds take 5 days.\n\n[2] (faq)\nSupport answers within one hour."
        "\n\nQuestion: How long do refunds take?"
    )


def test_history_is_trimmed_and_turns_are_made_to_alternate_from_a_user_turn() -> None:
    # Given a long history that starts with an assistant greeting and has two user turns in a row
    history = [ChatMessage(role="assistant", content="Welcome")] + [
        ChatMessage(role="user", content=f"question {n}") for n in range(3)
    ]
    request = answer_request("final question", PASSAGES, history, max_history_messages=4)
    # When rendered
    _, turns = render_prompt(request)
    # Then the leading assistant turn is dropped and consecutive user turns are merged into one
    assert [turn.role for turn in turns] == ["user"]
    assert turns[0].content.startswith("question 0\n\nquestion 1\n\nquestion 2\n\nPassages:")


def test_an_answer_request_without_passages_tells_the_model_nothing_was_found() -> None:
    _, turns = render_prompt(answer_request("Anything?", []))
    assert "(no passages were found)" in turns[-1].content


def test_the_condense_prompt_is_one_turn_with_the_transcript() -> None:
    history = [ChatMessage(role="user", content="What is plan A?"), ChatMessage(role="assistant", content="A plan.")]
    system, turns = render_prompt(condense_request(history, "How much is it?"))
    assert "standalone" in system
    assert len(turns) == 1
    assert turns[0].content == (
        "Conversation:\nUser: What is plan A?\nAssistant: A plan.\n\nFollow-up question: How much is it?"
        "\n\nStandalone question:"
    )


def test_condense_without_history_returns_the_question_without_calling_the_model() -> None:
    model = CannedModel("should not be used")
    assert condense_question(model, [], "How much is plan A?") == "How much is plan A?"
    assert model.requests == []


def test_condense_keeps_only_the_question_from_a_chatty_model_reply() -> None:
    model = CannedModel('Standalone question: "How much does plan A cost?"\nHope this helps!')
    history = [ChatMessage(role="user", content="What is plan A?")]
    assert condense_question(model, history, "How much is it?") == "How much does plan A cost?"


def test_condense_falls_back_to_the_question_when_the_model_returns_nothing() -> None:
    history = [ChatMessage(role="user", content="What is plan A?")]
    assert condense_question(CannedModel("  "), history, "How much is it?") == "How much is it?"


def test_only_citations_of_given_passages_count_in_order_of_first_use() -> None:
    text = "Refunds take 5 days [2][1]. Support is fast [2]. See also [7]."
    assert cited_ids(text, PASSAGES) == (2, 1)
