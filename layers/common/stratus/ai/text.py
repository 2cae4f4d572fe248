"""Word-level text handling shared by the offline model and the hash embedder (no dependencies)."""

from __future__ import annotations

import re
from typing import Final

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*\n|\n(?=\s*[-*•\d])")

_STOPWORD_LIST = """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves tell please know explain describe give show"""
STOPWORDS: Final = frozenset(_STOPWORD_LIST.split())


def words(text: str) -> list[str]:
    """Lower-cased words (letters and digits; apostrophes kept inside words)."""
    return [match.group().lower().replace("\u2019", "'") for match in _WORD.finditer(text)]


def stem(word: str) -> str:
    """A light English stemmer: enough to match "keys" with "key" and "rotated" with "rotate"."""
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + keep
            break
    # "rotate", "rotated" and "rotating" all become "rotat".
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def terms(text: str) -> list[str]:
    """Stemmed content words: what relevance scoring compares."""
    return [stem(word) for word in words(text) if word not in STOPWORDS]


def sentences(text: str) -> list[str]:
    """Sentences and list items of ``text``, whitespace-trimmed, empty ones dropped."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]
