"""The offline model's honesty check: it answers only when every content word of the question is accounted for in
the SQL it wrote, and a question that asks for a count gets a count.

A word is accounted for when it names a table or column the query uses, is (part of) a value it filters on, or
says what the query does (an aggregation, an ordering, a limit, a grouping, a comparison…), or is a filler word
that carries no content. Anything else ("full name", "the best employee", "appear on") would be silently
dropped, and a wrong answer from a data analyst is worse than a refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from analyst.offline_sql.intents import ColumnRef, Intent, OrderByAggregate
from analyst.offline_sql.phrasing import (
    ASKS_FOR_ROWS,
    AT_LEAST,
    COMPARE,
    COUNT,
    GREATER,
    ID,
    TIME_UNITS,
    singular,
    tokens,
)
from analyst.offline_sql.render import tables_of
from analyst.offline_sql.schema import Schema

_FILLER_WORDS: Final = """
    a an the of in on for to by with and or is are was were be been being do does did what which who whom whose how
    list show find give get all every me my our your their there that this those these it its from as at into please
    tell i we you us can could would should will let display return see know want need any some them they here also
    just one have has had having database data each corresponding select
"""
FILLER: Final = frozenset(_FILLER_WORDS.split())
# words that only say a question continues the previous one ("and only 2023", "what about Canada instead?")
FOLLOW_UP_FILLER: Final = frozenset(
    {"and", "or", "but", "also", "now", "only", "just", "then", "what", "about", "how", "same", "instead", "limit"}
)
_BY_FUNCTION: Final = {
    "count": frozenset({"how", "many", "number", "count", "amount", "total"}),
    "count_distinct": frozenset({"how", "many", "number", "count", "amount", "total", "distinct", "different"}),
    "sum": frozenset({"total", "sum", "much"}),
    "avg": frozenset({"average", "mean", "avg"}),
    "max": frozenset({"maximum", "max", "highest", "largest", "longest", "biggest", "most", "expensive"}),
    "min": frozenset({"minimum", "min", "lowest", "smallest", "shortest", "cheapest", "least", "expensive"}),
}
_ORDER: Final = frozenset(
    {
        *("top", "first", "most", "least", "fewest", "highest", "lowest", "largest", "biggest", "smallest"),
        *("longest", "shortest", "expensive", "cheapest", "common", "frequent", "popular", "used"),
    }
)
_GROUP: Final = frozenset({"per", "by", "each", "every", "grouped", "broken", "down", "across", "for"})
_DISTINCT: Final = frozenset({"distinct", "different", "unique"})
_LIKE: Final = frozenset(
    {"contain", "containing", "include", "including", "word", "text", "string", "phrase", "like", "them"}
)
_RELATION: Final = frozenset({"belong", "belonging", "made"})  # how two joined tables relate
_COMPARISON: Final = frozenset(
    {
        *GREATER,
        *("less", "smaller", "lower", "below", "under", "fewer", "shorter", "than", "at", "least", "most"),
        *TIME_UNITS,
        "millisecond",
    }
)
_LOCATION: Final = frozenset({"live", "living", "located", "based"})
_LOCATION_COLUMNS: Final = ("city", "state", "country", "address", "postal")
_EVERY_COLUMN: Final = frozenset({"information", "info", "detail", "everything", "column", "field", "record"})
_REQUIRED: Final = frozenset({"also", "an", "any", "some", "least", "one"})
_ID: Final = frozenset({"id", "number"})


def _columns_used(intent: Intent) -> Iterator[ColumnRef]:
    yield from intent.columns
    yield from (ColumnRef(a.table, a.column) for a in intent.aggregates if a.column)
    yield from (ColumnRef(c.table, c.column) for c in intent.conditions)
    if intent.group_by:
        yield intent.group_by
    if intent.order is not None and not isinstance(intent.order, OrderByAggregate):
        yield intent.order.column


def _schema_words(schema: Schema, intent: Intent) -> set[str]:
    tables = {intent.table, *tables_of(intent)}
    for name in list(tables):
        tables |= {step[2] for step in schema.joins.path(intent.table, name) or []}
    words = {w for table in tables for phrase in schema.index.phrases_of_table(table) for w in phrase.split()}
    if len(tables) > 1:
        words |= _RELATION
    for ref in _columns_used(intent):
        words |= {w for phrase in schema.index.phrases_of_column(ref.table, ref.column) for w in phrase.split()}
        words |= set(tokens(ref.column))
    return words


def _value_words(intent: Intent) -> set[str]:
    words = {w for c in intent.conditions for v in c.values for w in tokens(str(v).strip("%"))}
    words |= {str(v) for c in intent.conditions for v in c.values if not isinstance(v, str)}
    if intent.limit is not None:
        words.add(str(intent.limit))
    return words


def _condition_words(question: str, intent: Intent) -> set[str]:
    """What the kind of each condition accounts for: "longer than 5 minutes", "contains", "live in", "ID"."""
    operators = {c.op for c in intent.conditions}
    words: set[str] = set()
    if operators & {">", "<", ">=", "<="}:
        bounds = [*COMPARE.finditer(question), *AT_LEAST.finditer(question)]
        words |= _COMPARISON | {w for match in bounds for w in tokens(match.group(0))}
    if "like" in operators:
        words |= _LIKE
    if "year" in operators:
        words.add("year")
    if any(c.column.lower().endswith(_LOCATION_COLUMNS) for c in intent.conditions):
        words |= _LOCATION
    if any(isinstance(c.value, int) for c in intent.conditions) and ID.search(question):
        words |= _ID
    return words


def _shape_words(intent: Intent) -> set[str]:
    words = {w for a in intent.aggregates for w in _BY_FUNCTION[a.function]}
    if intent.order is not None:
        words |= _ORDER
    if intent.group_by is not None:
        words |= _GROUP
    if intent.distinct:
        words |= _DISTINCT
    if not intent.columns and not intent.aggregates:
        words |= _EVERY_COLUMN
    if intent.requires:
        words |= _REQUIRED
    return words


def unaccounted_word(
    schema: Schema, question: str, intent: Intent, filler: frozenset[str] = FILLER
) -> str | None:
    """The first content word of ``question`` that ``intent`` does not account for, if any."""
    accounted = filler | _schema_words(schema, intent) | _value_words(intent) | _shape_words(intent)
    accounted |= _condition_words(question, intent)
    accounted |= {singular(word) for word in accounted}  # the question's words are singular: "does" -> "doe"
    return next((word for word in tokens(question) if word not in accounted), None)


def shape_mismatch(question: str, intent: Intent) -> str | None:
    """Why the intent's shape does not answer the question: a count that is not one, rows that are one number."""
    counts = any(a.function in ("count", "count_distinct") for a in intent.aggregates)
    if COUNT.search(question) and not counts:
        return "The question asks for a count, and it could not write one."
    if ASKS_FOR_ROWS.match(question) and intent.aggregates and intent.group_by is None and not intent.columns:
        return "The question asks which rows, and it could only compute a single number."
    return None
