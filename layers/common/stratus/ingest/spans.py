"""Token-bounded spans of a page's text. Offsets always index the page text, so chunks can cite it."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from stratus.ingest.tokens import Tokenizer

# Boundary strengths, strongest first; the index of a separator is the strength of the boundary it makes.
_SEPARATORS = (
    re.compile(r"\n[ \t]*\n\s*"),  # paragraphs
    re.compile(r"\n\s*"),  # lines
    re.compile("(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019)\\]]))\\s+"),  # sentences
    re.compile(r"\s+"),  # words
)
_INSIDE_WORD = len(_SEPARATORS)
_WORD = re.compile(r"\S+")
_CLOSING_QUOTES = "\"'\u201d\u2019)]"
# A chunk ends at the strongest boundary found in its second half rather than wherever the budget runs out.
_MIN_FILL_FOR_EARLY_CUT = 0.5
# Pieces whose estimated count is this close to the budget are counted exactly.
_ESTIMATE_MARGIN = 4


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    tokens: int


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    tokens: int
    strength: int  # of the boundary before this piece


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_by(text: str, start: int, end: int, separator: re.Pattern[str]) -> list[tuple[int, int]]:
    parts: list[tuple[int, int]] = []
    position = start
    for match in separator.finditer(text, start, end):
        parts.append(strip_span(text, position, match.start()))
        position = match.end()
    parts.append(strip_span(text, position, end))
    return [(part_start, part_end) for part_start, part_end in parts if part_start < part_end]


class _TokenEstimate:
    """Token counts of sub-spans read off one tokenisation of the whole span, by bisection.

    Re-tokenising a slice can differ from this by a token or two at its edges, so anything that must
    fit the budget is counted exactly before it is trusted.
    """

    def __init__(self, text: str, start: int, end: int, tokenizer: Tokenizer) -> None:
        self.token_ends = [start + offset for offset in tokenizer.boundaries(text[start:end])]

    def __call__(self, start: int, end: int) -> int:
        return bisect_left(self.token_ends, end) - bisect_right(self.token_ends, start) + 1


class _PieceCollector:
    """Cuts a span into pieces that each fit the budget, at the coarsest boundary that makes them fit."""

    def __init__(self, text: str, budget: int, tokenizer: Tokenizer, estimate: _TokenEstimate | None) -> None:
        self.text = text
        self.budget = budget
        self.tokenizer = tokenizer
        self.estimate = estimate
        self.pieces: list[_Piece] = []

    def _fits(self, start: int, end: int) -> int | None:
        """The piece's token count if it fits the budget (exact near the limit), else None."""
        if self.estimate is not None:
            estimated = self.estimate(start, end)
            if estimated <= self.budget - _ESTIMATE_MARGIN:
                return estimated
            if estimated > self.budget + _ESTIMATE_MARGIN:
                return None
        tokens = self.tokenizer.count(self.text[start:end])
        return tokens if tokens <= self.budget else None

    def collect(self, start: int, end: int, level: int, strength: int) -> None:
        tokens = self._fits(start, end)
        if tokens is not None:
            self.pieces.append(_Piece(start, end, tokens, strength))
            return
        while level < _INSIDE_WORD:
            parts = _split_by(self.text, start, end, _SEPARATORS[level])
            if len(parts) > 1:
                for index, (part_start, part_end) in enumerate(parts):
                    self.collect(part_start, part_end, level + 1, strength if index == 0 else level)
                return
            level += 1
        self._split_word(start, end, strength)

    def _split_word(self, start: int, end: int, strength: int) -> None:
        """Only a single word longer than the budget (a URL, a hash, base64) is cut between its tokens."""
        word = self.text[start:end]
        bounds = self.tokenizer.boundaries(word)
        first, position = 0, 0
        while position < len(word):
            last = min(first + self.budget, len(bounds))
            while last < len(bounds) and bounds[last - 1] <= position:
                last += 1
            tokens = self.tokenizer.count(word[position : bounds[last - 1]])
            while tokens > self.budget and last - first > 1 and bounds[last - 2] > position:
                last -= 1
                tokens = self.tokenizer.count(word[position : bounds[last - 1]])
            self.pieces.append(
                _Piece(
                    start + position,
                    start + bounds[last - 1],
                    tokens,
                    strength if position == 0 else _INSIDE_WORD,
                )
            )
            first, position = last, bounds[last - 1]


def _gap_cost(text: str, left: _Piece, right: _Piece) -> int:
    # cl100k folds one space into the next word's token; other whitespace costs about one token.
    return 0 if right.start - left.end == 1 and text[left.end] == " " else 1


def _starts_sentence(text: str, position: int) -> bool:
    index = position - 1
    while index >= 0 and text[index] in " \t":
        index -= 1
    if index < 0 or text[index] == "\n":
        return True
    if text[index] in _CLOSING_QUOTES and index > 0:
        index -= 1
    return text[index] in ".!?"


def _overlap_tail(
    text: str, start: int, end: int, overlap: int, tokenizer: Tokenizer, estimate: _TokenEstimate
) -> Span | None:
    """Whole words ending the chunk that fit ``overlap``, never the whole chunk; the overlap starts at a
    sentence or line start when one lies in the first half of that tail."""
    if overlap <= 0:
        return None
    word_starts = [match.start() for match in _WORD.finditer(text, start, end)]
    chosen = len(word_starts)
    while chosen > 1 and estimate(word_starts[chosen - 1], end) <= overlap:
        chosen -= 1
    for index in range(chosen, chosen + (len(word_starts) - chosen) // 2 + 1):
        if index < len(word_starts) and _starts_sentence(text, word_starts[index]):
            chosen = index
            break
    while chosen < len(word_starts):
        tokens = tokenizer.count(text[word_starts[chosen] : end])
        if tokens <= overlap:
            return Span(word_starts[chosen], end, tokens)
        chosen += 1
    return None


def _strongest_cut(pieces: list[_Piece], estimates: list[int], first: int, last: int, budget: int) -> int:
    best = last
    for candidate in range(last - 1, first - 1, -1):
        if estimates[candidate - first] < budget * _MIN_FILL_FOR_EARLY_CUT:
            break
        if pieces[candidate + 1].strength < pieces[best + 1].strength:
            best = candidate
    return best


def _merge(
    text: str, pieces: list[_Piece], budget: int, overlap: int, tokenizer: Tokenizer, estimate: _TokenEstimate
) -> list[Span]:
    spans: list[Span] = []
    carry: Span | None = None
    first = 0
    while first < len(pieces):
        start, used = pieces[first].start, pieces[first].tokens
        if carry is not None:
            with_carry = carry.tokens + _gap_cost(text, pieces[first - 1], pieces[first]) + used
            if with_carry <= budget:
                start, used = carry.start, with_carry
        estimates = [used]
        last = first
        while last + 1 < len(pieces):
            grown = estimates[-1] + _gap_cost(text, pieces[last], pieces[last + 1]) + pieces[last + 1].tokens
            if grown > budget:
                break
            last += 1
            estimates.append(grown)
        if last + 1 < len(pieces):
            last = _strongest_cut(pieces, estimates, first, last, budget)
        tokens = tokenizer.count(text[start : pieces[last].end])
        while tokens > budget and (last > first or start != pieces[first].start):
            if last > first:
                last -= 1
            else:
                start = pieces[first].start
            tokens = tokenizer.count(text[start : pieces[last].end])
        if tokens > budget:
            # The estimate let through a piece that does not fit: split it exactly and start again.
            exact = _PieceCollector(text, budget, tokenizer, estimate=None)
            exact.collect(pieces[first].start, pieces[first].end, level=0, strength=pieces[first].strength)
            pieces[first : first + 1] = exact.pieces
            continue
        spans.append(Span(start, pieces[last].end, tokens))
        first = last + 1
        if first < len(pieces):
            carry = _overlap_tail(text, start, pieces[last].end, overlap, tokenizer, estimate)
    return spans


def token_spans(text: str, start: int, end: int, *, budget: int, overlap: int, tokenizer: Tokenizer) -> list[Span]:
    """Structure-aware spans of ``text[start:end]``: split at paragraphs, then lines, sentences, words,
    and merged back up to ``budget`` tokens, each span repeating up to ``overlap`` tokens of whole words
    from the end of the previous one. Every span is counted exactly and fits the budget."""
    start, end = strip_span(text, start, end)
    if start >= end:
        return []
    estimate = _TokenEstimate(text, start, end, tokenizer)
    collector = _PieceCollector(text, budget, tokenizer, estimate)
    collector.collect(start, end, level=0, strength=0)
    return _merge(text, collector.pieces, budget, overlap, tokenizer, estimate)


def window_spans(text: str, *, budget: int, overlap: int, tokenizer: Tokenizer) -> list[Span]:
    """Fixed windows of ``budget`` tokens advancing by ``budget - overlap``; windows may cut words."""
    bounds = tokenizer.boundaries(text)
    spans: list[Span] = []
    first = 0
    while first < len(bounds):
        last = min(first + budget, len(bounds))
        while True:
            start, end = strip_span(text, bounds[first - 1] if first else 0, bounds[last - 1])
            tokens = tokenizer.count(text[start:end]) if start < end else 0
            if tokens <= budget or last - first <= 1:
                break
            last -= 1
        if start < end and (not spans or end > spans[-1].end):
            if spans and start <= spans[-1].start:
                spans.pop()
            spans.append(Span(start, end, tokens))
        if last >= len(bounds):
            break
        first = max(first + 1, last - overlap)
        # Re-tokenising a slice can cost a token more than the window it came from (a character split
        # across tokens counts whole): shrink the overlap, down to none at all.
        while spans and first < last and _overlap_tokens(text, bounds[first - 1], spans[-1].end, tokenizer) > overlap:
            first += 1
    return spans


def _overlap_tokens(text: str, start: int, previous_end: int, tokenizer: Tokenizer) -> int:
    start, end = strip_span(text, start, previous_end)
    return tokenizer.count(text[start:end]) if start < end else 0
