"""What a question adds up, ranks or groups by: aggregations of numeric columns ("average unit price"), measures
("by number of albums", "by total"), and grouping targets ("per country", "by genre")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyst.offline_sql.intents import Aggregation, ColumnRef
from analyst.offline_sql.phrasing import LEAD_AGGREGATES, SUPERLATIVE_MEASURES, normalise, plural
from analyst.offline_sql.schema import Schema, is_measure, is_numeric, label_column


@dataclass(frozen=True)
class Measure:
    """A numeric column to add up or rank by, or (column None) the number of rows of a table."""

    table: str
    column: str | None

    @property
    def counted(self) -> bool:
        return self.column is None


def measure(schema: Schema, text: str, table_name: str, prefer_first: bool = False) -> Measure | None:
    """A numeric column (of the table, then of tables referencing it), or ``number of <table>``."""
    counted = re.match(r"\s*(?:the\s+)?(?:number|count)\s+(?:of\s+)?(.*)", text)
    if counted:
        mentioned = schema.index.tables_in(" " + counted.group(1).strip() + " ")
        if mentioned:
            return Measure(mentioned[0][1], None)
    for name in [table_name, *schema.children(table_name)]:
        numeric = {c.name for c in schema.table(name).columns if is_measure(c)}
        hits = [column for _, column in schema.index.columns_in(text, name) if column in numeric]
        if hits:
            return Measure(name, hits[0] if prefer_first else hits[-1])
    return None


def _aggregate_at(schema: Schema, text: str, match: re.Match[str], table_name: str) -> Measure | None:
    """The column an aggregate word applies to: named after it, implied by it ("longest"), or anywhere."""
    found = measure(schema, normalise(text[match.end() :]), table_name, prefer_first=True)
    hint = SUPERLATIVE_MEASURES.get(match.group(0))
    if found is None and hint:
        found = measure(schema, f" {hint} ", table_name, prefer_first=True)
    if found is None:
        found = measure(schema, normalise(text), table_name, prefer_first=True)
    return found if found is not None and not found.counted else None


def _names_its_column(schema: Schema, word: str, aggregation: Aggregation) -> bool:
    phrases = schema.index.phrases_of_column(aggregation.table, aggregation.column or "")
    return normalise(word).strip() in set(phrases)


def aggregations(schema: Schema, question: str, table_name: str) -> list[Aggregation]:
    """``average unit price``, ``longest and shortest``: each aggregate word with the column it applies to."""
    found: list[tuple[int, str, Aggregation]] = []
    text = question.lower()
    for pattern, function in LEAD_AGGREGATES:
        for match in re.finditer(pattern, text):
            if function == "sum" and re.match(r"total number", text[match.start() :]):
                continue
            column = _aggregate_at(schema, text, match, table_name)
            if column is not None and column.column is not None:
                found.append((match.start(), match.group(0), Aggregation(function, column.table, column.column)))
    others = {(a.table, a.column) for _, _, a in found if a.function != "sum"}
    # "the biggest invoice total", "average invoice total": "total" names the column another aggregate applies to
    kept = [
        (at, a)
        for at, word, a in found
        if not (a.function == "sum" and (a.table, a.column) in others and _names_its_column(schema, word, a))
    ]
    return list(dict.fromkeys(aggregation for _, aggregation in sorted(kept, key=lambda item: item[0])))


def measure_choices(schema: Schema, table_name: str) -> tuple[str, ...]:
    """What "top N <table>" could be ranked by, for a clarification."""
    choices: list[str] = []
    for name in [table_name, *schema.children(table_name)]:
        table = schema.table(name)
        choices += [f"by total {table.name}.{c.name}" for c in table.columns if is_measure(c)]
        if name != table_name:
            choices.append(f"by number of {plural(name)}")
    return tuple(choices[:6])


def _own_column(schema: Schema, phrase: str, table_name: str) -> ColumnRef | None:
    table = schema.table(table_name)
    for _, name in schema.index.columns_in(phrase, table_name):
        column = table.column(name)
        if column is not None and (not is_numeric(column) or (not column.primary_key and column.distinct_values)):
            return ColumnRef(table_name, name)
    return None


def _related_table(schema: Schema, phrase: str, table_name: str) -> ColumnRef | None:
    for _, other in schema.index.tables_in(phrase):
        if other != table_name and schema.reachable(table_name, other):
            return ColumnRef(other, label_column(schema.table(other)))
    return None


def _parent_column(schema: Schema, phrase: str, table_name: str) -> ColumnRef | None:
    for parent in schema.parents(table_name):
        table = schema.table(parent)
        for _, name in schema.index.columns_in(phrase, parent):
            column = table.column(name)
            if column is not None and not is_numeric(column):
                return ColumnRef(parent, name)
    return None


def group_target(schema: Schema, phrase: str, table_name: str) -> ColumnRef | None:
    """``country`` -> a column of the table; ``genre`` -> a referenced table's label."""
    if schema.catalog.table(table_name) is None:
        return None
    return (
        _own_column(schema, phrase, table_name)
        or _related_table(schema, phrase, table_name)
        or _parent_column(schema, phrase, table_name)
    )
