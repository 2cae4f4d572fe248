"""The shape of the answer: "the longest track" (a row), "the most common genre" (a label), a group-by, a top-N,
a count, an aggregate, or a list of rows. Each shape is a small function that either fits the question or not;
the first that fits wins."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

from analyst.offline_sql.intents import (
    Aggregation,
    Ambiguity,
    ColumnRef,
    Function,
    Intent,
    OrderByAggregate,
    OrderByColumn,
)
from analyst.offline_sql.measures import aggregations, group_target, measure, measure_choices
from analyst.offline_sql.phrasing import (
    ALL_COLUMNS,
    COUNT,
    DISTINCT,
    EXPLICIT_GROUP,
    GROUP,
    HAS_THE_MOST,
    MOST_COMMON,
    THE_SUPERLATIVE,
    TOP,
    WHICH,
    first_number,
    normalise,
    plural,
)
from analyst.offline_sql.schema import Schema, label_column, row_names

Shaped = Intent | Ambiguity


@dataclass(frozen=True)
class Reading:
    """One question as the shapes read it: the raw text, its normal form and the tables it names."""

    schema: Schema
    question: str
    text: str
    mentions: list[tuple[int, str]] = field(hash=False)

    @cached_property
    def top(self) -> re.Match[str] | None:
        return TOP.search(self.question)

    @cached_property
    def counting(self) -> bool:
        return bool(COUNT.search(self.question))

    @cached_property
    def distinct(self) -> bool:
        return bool(DISTINCT.search(self.question))

    def columns_before(self, table: str) -> list[str]:
        """Columns of ``table`` named before the table itself ("the titles of albums")."""
        at = next((pos for pos, name in self.mentions if name == table), len(self.text))
        return [column for pos, column in self.schema.index.columns_in(self.text, table) if pos <= at]


def _count(table: str) -> tuple[Aggregation, ...]:
    return (Aggregation("count", table),)


def has_the_most(reading: Reading, intent: Intent) -> Shaped | None:
    """ "Which country has the most customers?": group the counted table by the named column or table."""
    match = HAS_THE_MOST.search(reading.question)
    counted = reading.schema.index.tables_in(normalise(match.group("counted"))) if match else []
    if not match or not counted:
        return None
    counted_table = counted[0][1]
    grouping = group_target(reading.schema, normalise(match.group("group")), counted_table)
    if grouping is None:
        return None
    descending = match.group("order").lower() == "most"
    return replace(
        intent,
        table=counted_table,
        group_by=grouping,
        aggregates=_count(counted_table),
        order=OrderByAggregate(0, descending),
        limit=1,
    )


def the_superlative(reading: Reading, intent: Intent) -> Shaped | None:
    """ "What is the longest track?": the track, not only its length."""
    superlative = THE_SUPERLATIVE.search(reading.question)
    if not superlative or reading.top:
        return None
    if intent.table not in {t for _, t in reading.schema.index.tables_in(normalise(superlative.group(2)))}:
        return None
    after = normalise(reading.question[superlative.end() :])
    if any(at == 0 for at, _ in reading.schema.index.columns_in(after, intent.table)):
        return None  # "the largest track size": the size, a value, not the track
    found = aggregations(reading.schema, superlative.group(0), intent.table)
    if not found or found[0].table != intent.table or found[0].column is None:
        return None
    ranked = ColumnRef(found[0].table, found[0].column)
    label = ColumnRef(intent.table, label_column(reading.schema.table(intent.table)))
    return replace(
        intent, order=OrderByColumn(ranked, found[0].function != "min"), limit=1, columns=(label, ranked)
    )


def _counted_and_grouped(reading: Reading, before: str, after: str) -> tuple[str, ColumnRef] | None:
    """ "the most common genre in all tracks": group the counted table (tracks) by the named one (genre)."""
    schema = reading.schema
    named_after = schema.index.tables_in(" " + " ".join(after.split()[:3]) + " ")
    if not named_after:
        return None
    if re.match(r"\s*(?:across|in|among|over|of)\b", after):
        # "the genre that is most frequent across all tracks": grouped before, counted after
        named_before = schema.index.tables_in(normalise(before))
        if named_before:
            named_after = [named_before[-1], *named_after]
    grouped = named_after[0][1]
    counted = next((t for _, t in named_after[1:] + reading.mentions if t != grouped), None)
    counted = counted or next(iter(schema.children(grouped)), None)
    if counted is None or not schema.reachable(counted, grouped):
        return None
    return counted, ColumnRef(grouped, label_column(schema.table(grouped)))


def most_common(reading: Reading, intent: Intent) -> Shaped | None:
    """ "the most common genre": the label of the biggest group, without its count."""
    match = MOST_COMMON.search(reading.question)
    if not match:
        return None
    after = normalise(reading.question[match.end() :])
    table, grouping = intent.table, None
    if reading.schema.index.tables_in(" " + " ".join(after.split()[:3]) + " "):
        found = _counted_and_grouped(reading, reading.question[: match.start()], after)
        if found:
            table, grouping = found
    else:
        grouping = group_target(reading.schema, after, intent.table)
    if grouping is None:
        return None
    return replace(
        intent,
        table=table,
        group_by=grouping,
        aggregates=_count(table),
        order=OrderByAggregate(0, match.group(0).lower().startswith("most")),
        limit=1,
        label_only=True,
    )


def _grouping(reading: Reading, intent: Intent, explicit: bool, asks_for_numbers: bool) -> ColumnRef | None:
    group = GROUP.search(reading.question)
    if not group or measure(reading.schema, normalise(group.group(1)), intent.table) is not None:
        return None
    grouping = group_target(reading.schema, normalise(group.group(1)), intent.table)
    if grouping is None:
        return None
    if grouping.table == intent.table and not asks_for_numbers:
        return None  # "phone numbers for each employee": a list, not a grouping
    if not (asks_for_numbers or explicit):
        return None  # "albums by the artist AC/DC": a filter, not a grouping
    if any(c.table == grouping.table and c.op in ("=", "in") for c in intent.conditions):
        return None
    return grouping


def group_by(reading: Reading, intent: Intent) -> Shaped | None:
    """ "How many tracks per genre?", "total of invoices by billing country"."""
    group = GROUP.search(reading.question)
    explicit = bool(group and EXPLICIT_GROUP.match(group.group(0)))
    found = aggregations(reading.schema, reading.question, intent.table)
    asks_for_numbers = bool(found or reading.counting or reading.top)
    grouping = _grouping(reading, intent, explicit, asks_for_numbers)
    if grouping is None:
        return None
    return replace(
        intent,
        group_by=grouping,
        aggregates=tuple(found) or _count(intent.table),
        order=OrderByAggregate(0, True),
        limit=first_number(reading.top) if reading.top else intent.limit,
    )


def _ranked_by_measure(reading: Reading, intent: Intent, limited: Intent) -> Shaped | None:
    group = GROUP.search(reading.question)
    ranked_by = measure(reading.schema, normalise(group.group(1)), intent.table) if group else None
    if ranked_by is None:
        return None
    if ranked_by.table == intent.table and ranked_by.column is not None:
        return replace(limited, order=OrderByColumn(ColumnRef(ranked_by.table, ranked_by.column), True))
    function: Function = "count" if ranked_by.counted else "sum"
    return replace(
        limited,
        group_by=ColumnRef(intent.table, label_column(reading.schema.table(intent.table))),
        aggregates=(Aggregation(function, ranked_by.table, ranked_by.column),),
        order=OrderByAggregate(0, True),
    )


def top_n(reading: Reading, intent: Intent) -> Shaped | None:
    """ "Top 5 artists by number of albums", "top 3 longest tracks"; asks by what when the question does not say."""
    if not reading.top:
        return None
    limited = replace(intent, limit=first_number(reading.top))
    by_measure = _ranked_by_measure(reading, intent, limited)
    if by_measure is not None:
        return by_measure
    ranked = aggregations(reading.schema, reading.question, intent.table)
    if ranked and ranked[0].column is not None:
        column = ColumnRef(ranked[0].table, ranked[0].column)
        return replace(limited, order=OrderByColumn(column, ranked[0].function != "min"))
    return Ambiguity(
        f"Top {plural(intent.table)} by which measure?", measure_choices(reading.schema, intent.table)
    )


def count(reading: Reading, intent: Intent) -> Shaped | None:
    """ "How many …", "number of distinct …"."""
    if not reading.counting:
        return None
    before = reading.columns_before(intent.table)
    if reading.distinct and before:
        return replace(intent, aggregates=(Aggregation("count_distinct", intent.table, before[-1]),))
    return replace(intent, aggregates=_count(intent.table))


def aggregate(reading: Reading, intent: Intent) -> Shaped | None:
    """ "average unit price of jazz tracks", "the maximum and minimum durations"."""
    found = aggregations(reading.schema, reading.question, intent.table)
    return replace(intent, aggregates=tuple(found)) if found else None


def listing(reading: Reading, intent: Intent) -> Shaped:
    """A list: the columns named before the table ("titles of albums"), or "which X" -> the names of X."""
    table = reading.schema.table(intent.table)
    condition_columns = {c.column for c in intent.conditions if c.table == table.name}
    before = reading.columns_before(table.name)
    projected = [c for c in before if c not in condition_columns or len(before) == 1]
    every_column = bool(ALL_COLUMNS.search(reading.question))
    which = WHICH.match(reading.question)
    columns: tuple[ColumnRef, ...] = ()
    if projected and not every_column:
        columns = tuple(ColumnRef(table.name, c) for c in dict.fromkeys(projected))
    elif which and reading.schema.index.tables_in(normalise(which.group(1))) and not every_column:
        columns = tuple(ColumnRef(table.name, c) for c in row_names(table))
    return replace(intent, columns=columns, distinct=reading.distinct)


SHAPES: tuple[Callable[[Reading, Intent], Shaped | None], ...] = (
    has_the_most,
    the_superlative,
    most_common,
    group_by,
    top_n,
    count,
    aggregate,
)


def shape(reading: Reading, intent: Intent) -> Shaped:
    """The first shape that fits the question, else a list of rows."""
    for candidate in SHAPES:
        shaped = candidate(reading, intent)
        if shaped is not None:
            return shaped
    return listing(reading, intent)
