"""The filters a question names: stored values ("Brazil", "Rock"), quoted strings, "contains …", ids,
comparisons ("longer than 5 minutes"), and years."""

from __future__ import annotations

import re
from typing import Literal

from analyst.offline_sql.intents import Ambiguity, Condition
from analyst.offline_sql.phrasing import (
    AT_LEAST,
    COMPARE,
    CONTAINS,
    GREATER,
    ID,
    STOP,
    TIME_UNITS,
    UNITS_MS,
    YEAR,
    normalise,
    singular,
)
from analyst.offline_sql.schema import Schema, is_date, is_numeric, label_column, primary_key
from stratus.sql import CatalogTable

Match = tuple[int, int, str, str, str]  # start, end, table, column, value


def reachable_tables(schema: Schema, mentioned: list[str]) -> list[str]:
    """The tables named and the tables they reference, in that order."""
    tables: list[str] = []
    for table in mentioned:
        for candidate in [table, *schema.parents(table)]:
            if candidate not in tables:
                tables.append(candidate)
    return tables


def _value_matches(schema: Schema, question: str, scope: list[str]) -> list[Match]:
    found: list[Match] = []
    for table_name in scope:
        for column in schema.table(table_name).columns:
            for value in column.distinct_values or []:
                if len(value) < 2 or value.lower() in STOP:
                    continue
                flags = 0 if len(value) <= 3 else re.I  # "US" must not match "us"
                for match in re.finditer(rf"(?<![\w]){re.escape(value)}(?![\w])", question, flags):
                    found.append((match.start(), match.end(), table_name, column.name, value))
    return found


def _keeps(match: Match, taken: dict[tuple[int, int], int], rank: int, mentioned: bool) -> bool:
    start, end = match[0], match[1]
    if (start, end) in taken:
        # The same words match another column: keep it only when no table was named (then it is ambiguous)
        return not (mentioned and rank > taken[(start, end)])
    return not any(s < end and start < e for s, e in taken)


def stored_values(schema: Schema, question: str, mentioned: list[str], quoted: list[str]) -> list[Condition]:
    """Stored values of low-cardinality columns the question mentions (longest first, no overlaps)."""
    scope = reachable_tables(schema, mentioned) if mentioned else [t.name for t in schema.catalog.tables]
    matches = _value_matches(schema, question, scope)
    candidates = sorted(matches, key=lambda c: (-(c[1] - c[0]), scope.index(c[2]), c[0]))
    taken: dict[tuple[int, int], int] = {}  # span -> scope rank of the table that took it
    by_column: dict[tuple[str, str], list[str]] = {}
    for match in candidates:
        rank = scope.index(match[2])
        if not _keeps(match, taken, rank, bool(mentioned)) or (match[4] in quoted and not mentioned):
            continue
        taken.setdefault((match[0], match[1]), rank)
        by_column.setdefault((match[2], match[3]), []).append(match[4])
    conditions = []
    for (table_name, column_name), found in by_column.items():
        unique = tuple(dict.fromkeys(found))
        if len(unique) == 1:
            conditions.append(Condition(table_name, column_name, "=", unique[0]))
        else:
            conditions.append(Condition(table_name, column_name, "in", unique))
    return conditions


def _beside(schema: Schema, text: str, value: str, position: int, table: str) -> bool:
    spoken_value = normalise(value)
    at = text.find(spoken_value)
    if at < 0:
        return False
    phrase = next((p for p in schema.index.phrases_of_table(table) if text.startswith(f" {p} ", position)), "")
    # the value's trailing space is the mention's leading space, or the other way round
    return position == at + len(spoken_value) - 1 or at == position + len(phrase) + 1


def adjacent_value_tables(
    schema: Schema, text: str, values: list[Condition], mentions: list[tuple[int, str]]
) -> set[str]:
    """Tables named right beside one of their values ("the Jazz genre", "genre Rock"): context, not subject."""
    return {
        table
        for condition in values
        for value in condition.values
        for position, table in mentions
        if table == condition.table and _beside(schema, text, str(value), position, table)
    }


def quoted_tables(schema: Schema, question: str, quoted: list[str]) -> dict[str, str]:
    """For each quoted string, the table named just before it ("the artist "AC/DC"")."""
    found: dict[str, str] = {}
    lowered = question.lower()
    for value in quoted:
        at = lowered.find(value.lower())
        before = normalise(question[: max(at - 1, 0)])
        near = schema.index.tables_in(" " + " ".join(before.split()[-3:]) + " ")
        if near and not re.search(r"\b(?:contain|word|includ|like)\w*\W*$", question[: max(at - 1, 0)], re.I):
            found[value] = near[-1][1]
    return found


def text_column_near(schema: Schema, question: str, value: str, table_name: str) -> str:
    """The column named just before ``value`` ("email that contains ..."), else the table's label."""
    table = schema.table(table_name)
    at = question.lower().find(value.lower())
    columns = schema.index.columns_in(normalise(question[: max(at, 0)]), table.name)
    return columns[-1][1] if columns else label_column(table)


def quoted_conditions(
    schema: Schema, question: str, quoted: list[str], by_table: dict[str, str], known: list[Condition], target: str
) -> list[Condition]:
    """A quoted string after a table names that table's row; anywhere else it is a substring of a text column."""
    seen = {str(c.value).lower() for c in known if c.op == "="}
    found: list[Condition] = []
    for value in quoted:
        if value.lower() in seen:
            continue
        table_name = by_table.get(value)
        if table_name:
            found.append(Condition(table_name, label_column(schema.table(table_name)), "=", value))
        else:
            found.append(Condition(target, text_column_near(schema, question, value, target), "like", f"%{value}%"))
    return found


def contains_condition(schema: Schema, question: str, target: str) -> Condition | None:
    """``tracks that contain the word you`` (unquoted)."""
    contains = CONTAINS.search(question)
    if not contains or not re.search(r"contain|includ", contains.group(0), re.I):
        return None
    word = contains.group(1)
    if schema.index.tables_in(normalise(word)):
        return None
    return Condition(target, text_column_near(schema, question, word, target), "like", f"%{word}%")


def id_condition(schema: Schema, question: str, target: str) -> Condition | None:
    """``the album with ID 5``: the key of the table named before the id, or the target's foreign key to it."""
    match = ID.search(question)
    if not match:
        return None
    before = normalise(question[: match.start()])
    near = schema.index.tables_in(" " + " ".join(before.split()[-3:]) + " ")
    named = near[-1][1] if near else target
    value = int(match.group(1))
    table = schema.table(target)
    if named == target:
        return Condition(target, primary_key(table), "=", value)
    for fk in table.foreign_keys:
        if fk.references_table.lower() == named.lower() and len(fk.columns) == 1:
            return Condition(target, fk.columns[0], "=", value)
    other = schema.catalog.table(named)
    return Condition(other.name, primary_key(other), "=", value) if other is not None else None


def _number(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _numeric_column_near(schema: Schema, before: str, table: CatalogTable, hint: str) -> str | None:
    named = schema.index.columns_in(normalise(before), table.name)
    numeric = {c.name for c in table.columns if is_numeric(c) and not c.primary_key}
    for _, column in reversed(named):
        if column in numeric:
            return column
    if hint in ("longer", "shorter") or hint.startswith(TIME_UNITS):
        for candidate in table.columns:
            if "millisecond" in candidate.name.lower() or candidate.name.lower() in ("duration", "length"):
                return candidate.name
    return None


def _in_milliseconds(number: float, unit: str, column: str) -> float:
    if not unit or "millisecond" not in column.lower():
        return number
    return number * UNITS_MS.get(singular(unit.rstrip("s")) if unit != "ms" else "ms", 1)


def comparisons(schema: Schema, question: str, target: str) -> list[Condition]:
    """``longer than 5 minutes``, ``unit price bigger than 1``, ``at least 3``: on a numeric column named before."""
    table = schema.table(target)
    found: list[Condition] = []
    for match in COMPARE.finditer(question):
        word, number, unit = match.group(1).lower(), float(match.group(2)), (match.group(3) or "").lower()
        op: Literal[">", "<"] = ">" if word in GREATER else "<"
        column = _numeric_column_near(schema, question[: match.start()], table, unit or word)
        if column is not None:
            found.append(Condition(table.name, column, op, _number(_in_milliseconds(number, unit, column))))
    for match in AT_LEAST.finditer(question):
        column = _numeric_column_near(schema, question[: match.start()], table, "")
        if column is not None:
            bound: Literal[">=", "<="] = ">=" if match.group(1).lower() == "least" else "<="
            found.append(Condition(table.name, column, bound, _number(float(match.group(2)))))
    return found


def year_condition(schema: Schema, question: str, target: str) -> Condition | Ambiguity | None:
    """``in 2023``: on the one date column of the target (or of a table it references) the question allows."""
    match = YEAR.search(question)
    if not match:
        return None
    text = normalise(question)
    for table_name in [target, *schema.parents(target)]:
        table = schema.table(table_name)
        dates = [c for c in table.columns if is_date(c)]
        if len(dates) > 1:
            # BirthDate or HireDate? Only a date column the question names will do.
            named = {column for _, column in schema.index.columns_in(text, table.name)}
            if len([c for c in dates if c.name in named]) != 1:
                return Ambiguity(
                    "Which date should the year apply to?", tuple(f"{table.name}.{c.name}" for c in dates)
                )
            dates = [c for c in dates if c.name in named]
        if dates:
            return Condition(table.name, dates[0].name, "year", int(match.group(1)))
    return None


def id_tables(schema: Schema, conditions: tuple[Condition, ...]) -> set[str]:
    """Tables a condition names through a foreign-key column ("the album with ID 5")."""
    return {
        fk.references_table
        for condition in conditions
        for fk in schema.table(condition.table).foreign_keys
        if fk.columns == [condition.column]
    }
