"""How questions are worded: synonyms, the patterns that mark a shape (count, top-N, group-by, comparisons…), and
the normal form the matcher compares (lower case, singular words, padded with spaces)."""

from __future__ import annotations

import re
from typing import Final, Literal

Aggregate = Literal["count", "sum", "avg", "min", "max"]

SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "song": ("track",),
    "tune": ("track",),
    "band": ("artist",),
    "musician": ("artist",),
    "singer": ("artist",),
    "record": ("album",),
    "client": ("customer",),
    "buyer": ("customer",),
    "order": ("invoice",),
    "purchase": ("invoice", "total"),
    "sale": ("invoice", "total"),
    "staff": ("employee",),
    "rep": ("employee",),
    "category": ("genre",),
    "style": ("genre",),
    "format": ("mediatype", "media type"),
    "duration": ("milliseconds", "duration", "length"),
    "length": ("milliseconds", "duration", "length"),
    "long": ("milliseconds", "duration"),
    "time": ("milliseconds", "duration"),
    "millisecond": ("milliseconds",),
    "price": ("unitprice", "unit price", "price"),
    "cost": ("unitprice", "total", "price"),
    "mail": ("email",),
    "e-mail": ("email",),
    "phone number": ("phone",),
    "size": ("bytes",),
    "spend": ("total",),
    "spent": ("total",),
    "revenue": ("total",),
}
LEAD_AGGREGATES: Final[list[tuple[str, Aggregate]]] = [
    (r"\b(?:average|mean|avg)\b", "avg"),
    (r"\b(?:total|sum of|sum)\b(?!\s+number)", "sum"),
    (r"\b(?:maximum|max|highest|largest|longest|biggest|most expensive)\b", "max"),
    (r"\b(?:minimum|min|lowest|smallest|shortest|cheapest|least expensive)\b", "min"),
]
COUNT: Final = re.compile(r"\b(?:how many|number of|count(?: of)?|total number of|amount of)\b", re.I)
BEYOND: Final = re.compile(
    r"\b(?:not have|don't have|do not have|without any|never|no albums?|have not|haven't|more than one|"
    r"at least \d+ \w+s\b|ratio|percent|percentage|compare|comparison|trend|difference|correlat|why|predict|"
    r"forecast|median|each month|per month|monthly|weekly|year over year|per year|by year|each year|yearly|annual|"
    r"per quarter|by month|over time|before|after|since|between|both|"
    r"who help|who helps|serves?|at most \d+ customers|or more|or fewer|or less)",
    re.I,
)
TOP: Final = re.compile(
    r"\btop\s+(\d+)\b|\bfirst\s+(\d+)\b|\b(\d+)\s+(?:most|largest|biggest|highest|best|longest|top|richest)\b", re.I
)
MOST_COMMON: Final = re.compile(r"\b(?:most|least)\s+(?:common|frequent|popular|used)\b", re.I)
HAS_THE_MOST: Final = re.compile(
    r"\b(?:which|what)\s+(?P<group>[a-z]+(?: [a-z]+)?)\s+(?:has|have|had|gets?|got)\s+the\s+"
    r"(?P<order>most|fewest|least)\s+(?P<counted>[a-z]+(?: [a-z]+)?)",
    re.I,
)
THE_SUPERLATIVE: Final = re.compile(
    r"\bthe\s+(?:\d+\s+)?(longest|shortest|most expensive|cheapest|least expensive|largest|biggest|smallest)\s+(\w+)",
    re.I,
)
GROUP: Final = re.compile(
    r"\b(?:per|by|for each|for every|in each|each|grouped by|broken down by|across)\s+(?:the\s+)?([a-z][\w ]{1,30})",
    re.I,
)
EXPLICIT_GROUP: Final = re.compile(r"per|for each|for every|in each|grouped|broken", re.I)
COMPARE: Final = re.compile(
    r"\b(greater|more|bigger|larger|higher|above|over|longer|less|smaller|lower|below|under|fewer|shorter)\s+than\s+"
    r"(\d+(?:\.\d+)?)\s*(minutes?|mins?|seconds?|secs?|hours?|ms|milliseconds?)?",
    re.I,
)
AT_LEAST: Final = re.compile(r"\bat (least|most)\s+(\d+(?:\.\d+)?)", re.I)
QUOTED: Final = re.compile(
    r"\"([^\"]{1,100})\"|'([^']{1,100})'|\u201c([^\u201d]{1,100})\u201d|\u2018([^\u2019]{1,100})\u2019"
)
CONTAINS: Final = re.compile(
    r"\b(?:contain(?:s|ing)?|includ(?:es|ing)|with)\s+(?:the\s+)*(?:word|text|string|phrase)?\s*(?:\"|'|“)?([\w.@-]+)",
    re.I,
)
ID: Final = re.compile(r"\b(?:with\s+)?(?:id|ID|Id)\s*(?:=|of|is|number)?\s*(\d+)\b")
YEAR: Final = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
DISTINCT: Final = re.compile(r"\b(?:distinct|different|unique)\b", re.I)
ALL_COLUMNS: Final = re.compile(r"\b(?:information|info|details|everything|all columns|all fields|records?)\b", re.I)
WHICH: Final = re.compile(r"^\s*(?:which|who|what)\s+(\w+)", re.I)
ASKS_FOR_ROWS: Final = re.compile(r"^\s*(?:which|who)\b", re.I)
FOLLOW_UP: Final = re.compile(
    r"^\s*(?:and|or|but|also|now|only|just|then|what about|how about|same|instead|except|excluding|sorted|"
    r"order(?:ed)? by|by|per|for each|broken down|limit|top|show only|filter|restrict)\b",
    re.I,
)
REQUIRED_LEAD: Final = r"\b(?:have|has|had|having|with)\s+(?:also\s+)?(?:had\s+)?(?:an?|any|some|at least one)\s+"
REPLACING: Final = re.compile(r"\b(?:what|how) about\b|\binstead\b", re.I)
# "only 2023" is a year, not a limit
FOLLOW_UP_LIMIT: Final = re.compile(r"\b(?:limit|only)\s+(?!(?:19[5-9]\d|20\d\d)\b)(\d+)\b", re.I)
_STOP_WORDS: Final = """
    a an the of in on for to by with and or is are was were be been do does did what which who whom whose how many
    much list show find give get all each every me my our your their there that this those these it its from as at
    than into per please tell number count total
"""
STOP: Final = frozenset(_STOP_WORDS.split())
SUPERLATIVE_MEASURES: Final = {
    "longest": "duration",
    "shortest": "duration",
    "most expensive": "price",
    "cheapest": "price",
    "least expensive": "price",
    "largest": "size",
    "biggest": "size",
    "smallest": "size",
}
GREATER: Final = frozenset({"greater", "more", "bigger", "larger", "higher", "above", "over", "longer"})
UNITS_MS: Final = {"minute": 60_000, "min": 60_000, "second": 1000, "sec": 1000, "hour": 3_600_000, "ms": 1}
TIME_UNITS: Final = tuple(UNITS_MS)


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def spoken(name: str) -> str:
    """``InvoiceLine`` / ``invoice_line`` -> ``invoice line``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|_", " ", name)
    return re.sub(r"\s+", " ", spaced).strip().lower()


def tokens(text: str) -> list[str]:
    """The singular lower-case words of ``text`` ("Customers' e-mails" -> ["customer", "e-mail"])."""
    found = re.findall(r"[a-z0-9@.&/'-]+", text.lower())
    words = (singular(re.sub(r"'s$", "", t).strip(".'-")) for t in found)
    return [w for w in words if w]


def normalise(text: str) -> str:
    """The question as the matcher sees it: `` word word … `` (singular, lower case, one space, padded)."""
    return " " + " ".join(tokens(text)) + " "


def plural(table: str) -> str:
    words = spoken(table)
    return words if words.endswith("s") else words + "s"


def first_number(match: re.Match[str]) -> int:
    """The number a top-N pattern captured, whichever of its groups holds it."""
    return int(next(group for group in match.groups() if group))
