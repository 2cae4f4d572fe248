"""The offline chat model: deterministic, no network, and labelled offline in every `Usage`.

- "answer": an extractive answer. The sentences of the given passages are scored against the question
  with BM25 (sentences as documents); the best ones are quoted with their passage's citation id. When
  the matched question terms carry less than half of the question's weight, it says the documents do
  not answer.
- "condense": resolves a follow-up against the previous user question (pronouns, "what about X?").
- "chat": a short statement that this is the offline model.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from stratus.ai.prompts import render_prompt
from stratus.ai.text import STOPWORDS, sentences, terms, words
from stratus.ai.tokens import count_tokens
from stratus.ai.types import ChatChunk, ChatMessage, ChatRequest, ChatResult, Passage, Provider, Usage
from stratus.ai.usage import make_usage
from stratus.config.ai import OFFLINE_CHAT_MODEL_ID

NO_ANSWER: Final = "The provided documents do not answer this question."
CHAT_REPLY: Final = (
    "This is the offline model (MODEL_PROVIDER=offline): it does not generate free text. Ask a question "
    "about your documents and it will quote the passages that answer it, with citations."
)

MAX_SENTENCES: Final = 3
MIN_COVERAGE: Final = 0.5  # share of the question's idf weight the chosen sentences must match
_K1, _B = 1.2, 0.75

_PRONOUN = re.compile(
    r"\b(it|its|they|them|their)\b"
    # "this"/"that" only where they stand for a thing: "is that free?", not "does it say that refunds...".
    r"|\b(this|that|these|those)\b(?=\s*(?:[?.!,]|$|\s+(?:is|are|was|were|does|do|did|mean|means|work|works"
    r"|cost|costs|apply|applies|take|takes|include|includes)\b))",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(
    r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*\??\s*$|^\s*and\s+(?:for\s+|in\s+)?(?P<y>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_QUESTION_LEAD = re.compile(
    r"^\s*(?:(?:what|which|who|whom|whose|when|where|why|how)(?:\s+(?:much|many|long|often|far))?"
    r"(?:\s+(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had))*"
    r"(?:\s+(?:i|we|you|they|one))?"
    r"|(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had)(?:\s+(?:i|we|you|they|one))?)\b",
    re.IGNORECASE,
)
_DETERMINER = re.compile(r"\b(?:the|a|an|my|our|your|their|its|this|that|these|those)\b", re.IGNORECASE)
_TRAILING_PHRASE = re.compile(r"\b(?:for|of|in|on|about|with|to|from|at|by)\s+(?P<tail>[^?.!]+?)\s*[?.!]*\s*$")
_PIECES = re.compile(r"(?<=\s)(?=\S)")


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    position: int
    sentence: str
    counts: Counter[str]


class OfflineChatModel:
    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._latency_s = latency_s
        self._sleep = sleep
        self._clock = clock

    @property
    def provider(self) -> Provider:
        return "offline"

    @property
    def model_id(self) -> str:
        return OFFLINE_CHAT_MODEL_ID

    def generate(self, request: ChatRequest) -> ChatResult:
        started = self._clock()
        self._simulate_latency()
        text, citations = self._respond(request)
        return ChatResult(text=text, citations=citations, usage=self._usage(request, text, started))

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        started = self._clock()
        self._simulate_latency()
        text, citations = self._respond(request)
        for piece in _PIECES.split(text):
            if piece:
                yield ChatChunk(text=piece)
        yield ChatChunk(text="", citations=citations, usage=self._usage(request, text, started))

    def _simulate_latency(self) -> None:
        if self._latency_s > 0:
            self._sleep(self._latency_s)

    def _respond(self, request: ChatRequest) -> tuple[str, tuple[int, ...]]:
        if request.purpose == "answer":
            return extractive_answer(request.question, request.passages)
        if request.purpose == "condense":
            return standalone_question(request.messages[:-1], request.question), ()
        return CHAT_REPLY, ()

    def _usage(self, request: ChatRequest, text: str, started: float) -> Usage:
        # Latency first: counting is bookkeeping (and loads the BPE ranks once, ~0.5 s), not the model's time.
        latency_ms = (self._clock() - started) * 1000
        system, messages = render_prompt(request)
        prompt = "\n".join([system, *(message.content for message in messages)])
        return make_usage(
            provider="offline",
            model=OFFLINE_CHAT_MODEL_ID,
            input_tokens=count_tokens(prompt),
            output_tokens=count_tokens(text),
            latency_ms=latency_ms,
        )


def extractive_answer(question: str, passages: Sequence[Passage]) -> tuple[str, tuple[int, ...]]:
    """The passage sentences that best answer ``question``, each cited as [n]; or a plain "no answer"."""
    question_terms = set(terms(question))
    candidates = [
        _Candidate(passage, position, sentence, Counter(terms(sentence)))
        for passage in passages
        for position, sentence in enumerate(sentences(passage.text))
    ]
    if not question_terms or not candidates:
        return NO_ANSWER, ()
    idf = _idf(question_terms, candidates)
    average_length = sum(sum(c.counts.values()) for c in candidates) / len(candidates) or 1.0
    scored = sorted(
        ((_bm25(c, question_terms, idf, average_length), index, c) for index, c in enumerate(candidates)),
        key=lambda item: (-item[0], item[1]),
    )
    best_score = scored[0][0]
    chosen = [c for score, _, c in scored[:MAX_SENTENCES] if score > 0 and score >= best_score / 2]
    matched = {term for c in chosen for term in question_terms if c.counts[term]}
    if sum(idf[t] for t in matched) < MIN_COVERAGE * sum(idf.values()):
        return NO_ANSWER, ()
    parts, citations = [], []
    for candidate in chosen:
        parts.append(_cite(candidate.sentence, candidate.passage.citation_id))
        if candidate.passage.citation_id not in citations:
            citations.append(candidate.passage.citation_id)
    return " ".join(parts), tuple(citations)


def _idf(question_terms: set[str], candidates: list[_Candidate]) -> dict[str, float]:
    total = len(candidates)
    frequency = {term: sum(1 for c in candidates if c.counts[term]) for term in question_terms}
    # A question term no sentence contains gets the highest weight: the question is about something absent.
    return {term: math.log(1 + (total - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}


def _bm25(candidate: _Candidate, question_terms: set[str], idf: dict[str, float], average_length: float) -> float:
    length = sum(candidate.counts.values())
    score = 0.0
    for term in question_terms:
        tf = candidate.counts[term]
        if tf:
            score += idf[term] * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / average_length))
    return score


def _cite(sentence: str, citation_id: int) -> str:
    body = sentence.rstrip()
    end = ""
    while body and body[-1] in ".!?;:":
        end = body[-1] + end
        body = body[:-1]
    return f"{body} [{citation_id}]{end or '.'}"


def standalone_question(history: Sequence[ChatMessage], question: str) -> str:
    """``question`` made understandable without ``history``, using the previous user question's topic."""
    previous = next((m.content.strip() for m in reversed(history) if m.role == "user"), "")
    if not previous:
        return question
    topic = _topic(previous)
    if not topic:
        return question
    ellipsis = _ELLIPSIS.match(question)
    subject = (ellipsis.group("x") or ellipsis.group("y")).strip() if ellipsis else ""
    # "and X?" is an ellipsis only when X is a short noun phrase, not a new question ("and how does...").
    if subject and len(subject.split()) <= 4 and not _starts_like_question(subject):
        return _substitute_tail(previous, subject)
    pronoun = _PRONOUN.search(question)
    if pronoun and pronoun.group().lower() in {"its", "their"}:
        # "What are its limits?" -> "What are the limits of <topic>?"
        noun = re.match(r"(?:\s+(?!(?:for|of|in|on|to|with|and|or)\b)[\w-]+)+", question[pronoun.end() :])
        if noun:
            end = pronoun.end() + noun.end()
            return f"{question[: pronoun.start()]}the {noun.group().strip()} of {topic}{question[end:]}"
    if pronoun:
        return question[: pronoun.start()] + topic + question[pronoun.end() :]
    if len([w for w in words(question) if w not in STOPWORDS]) <= 1:
        return f"{question.rstrip('?. ')} ({topic})?"
    return question


def _starts_like_question(text: str) -> bool:
    lead = _QUESTION_LEAD.match(text)
    return bool(lead and lead.group().strip())


def _topic(question: str) -> str:
    """The noun phrase a question is about: "How do I rotate the API keys?" -> "the API keys"."""
    rest = _QUESTION_LEAD.sub("", question, count=1).strip().rstrip("?.! ").strip()
    determiner = _DETERMINER.search(rest)
    if determiner and determiner.start() > 0 and len(rest[: determiner.start()].split()) == 1:
        rest = rest[determiner.start() :]  # drop a leading verb: "rotate the API keys" -> "the API keys"
    return rest


def _substitute_tail(previous: str, subject: str) -> str:
    """ "What is the refund policy for enterprise plans?" + "startups" -> "... for startups?" """
    tail = _TRAILING_PHRASE.search(previous)
    if tail:
        return previous[: tail.start("tail")] + subject + "?"
    return f"{previous.rstrip('?.! ')} for {subject}?"
