"""The catalog as the matcher sees it: the phrases that name each table and column, the column that names a row,
and the foreign-key paths between tables."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

from analyst.offline_sql.phrasing import STOP, SYNONYMS, singular, spoken
from stratus.sql import Catalog, CatalogColumn, CatalogTable

JoinStep = tuple[str, str, str, str]  # (from_table, from_column, to_table, to_column)


def is_numeric(column: CatalogColumn) -> bool:
    kind = column.type.upper()
    return any(word in kind for word in ("INT", "NUM", "DEC", "REAL", "FLOAT", "DOUBLE", "MONEY"))


def is_measure(column: CatalogColumn) -> bool:
    """A number worth adding up or ranking by: numeric, and neither a key nor an id."""
    return is_numeric(column) and not column.primary_key and not column.name.lower().endswith("id")


def is_date(column: CatalogColumn) -> bool:
    kind = column.type.upper()
    return "DATE" in kind or "TIME" in kind


def label_column(table: CatalogTable) -> str:
    """The column that names a row: ``Name``/``Title``, else the primary key."""
    for wanted in ("name", "title"):
        for column in table.columns:
            if column.name.lower() == wanted:
                return column.name
    for column in table.columns:
        if column.name.lower().endswith("name") and not column.name.lower().startswith(("first", "last")):
            return column.name
    primary = [c.name for c in table.columns if c.primary_key]
    return primary[0] if primary else table.columns[0].name


def row_names(table: CatalogTable) -> tuple[str, ...]:
    """What "which <rows>" lists: a person's first and last name, else the label column."""
    first = next((c.name for c in table.columns if c.name.lower() in ("firstname", "first_name")), None)
    last = next((c.name for c in table.columns if c.name.lower() in ("lastname", "last_name")), None)
    if first and last:
        return (first, last)
    return (label_column(table),)


def primary_key(table: CatalogTable) -> str:
    primary = [c.name for c in table.columns if c.primary_key]
    return primary[0] if primary else label_column(table)


def _table_phrases(table: CatalogTable) -> set[str]:
    words = spoken(table.name)
    joined = singular(words.replace(" ", ""))
    phrases = {singular(words), words.replace(" ", ""), joined}
    phrases |= {word for word, targets in SYNONYMS.items() if any(joined == t.replace(" ", "") for t in targets)}
    return {p for p in phrases if p}


def _column_phrases(column: CatalogColumn) -> set[str]:
    words = spoken(column.name)
    names = {singular(words), words}
    squashed = words.replace(" ", "")
    names |= {word for word, targets in SYNONYMS.items() if any(squashed == t.replace(" ", "") for t in targets)}
    parts = words.split()
    last = parts[-1]
    if len(parts) > 1 and last not in ("id", "date", "name") and last not in STOP and len(last) > 3:
        names.add(singular(last))
    return {singular(n) for n in names if n}


def _find(phrases: list[tuple[str, str]], text: str) -> list[tuple[int, str]]:
    """Where each phrase occurs in ``text``, longest phrases first, no two overlapping."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for phrase, name in phrases:
        for match in re.finditer(rf" {re.escape(phrase)} ", text):
            span = (match.start(), match.end())
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue
            taken.append(span)
            found.append((match.start(), name))
    return sorted(found)


class SchemaIndex:
    """Phrases that name each table and column, matched against a normalised question."""

    def __init__(self, catalog: Catalog) -> None:
        self.table_phrases: list[tuple[str, str]] = sorted(
            ((p, t.name) for t in catalog.tables for p in sorted(_table_phrases(t))), key=lambda p: -len(p[0])
        )
        self.column_phrases: dict[str, list[tuple[str, str]]] = {
            t.name: sorted(
                ((p, c.name) for c in t.columns for p in sorted(_column_phrases(c))), key=lambda p: -len(p[0])
            )
            for t in catalog.tables
        }

    def tables_in(self, text: str) -> list[tuple[int, str]]:
        return _find(self.table_phrases, text)

    def columns_in(self, text: str, table: str) -> list[tuple[int, str]]:
        return _find(self.column_phrases.get(table, []), text)

    def phrases_of_table(self, table: str) -> Iterator[str]:
        return (phrase for phrase, name in self.table_phrases if name == table)

    def phrases_of_column(self, table: str, column: str) -> Iterator[str]:
        return (phrase for phrase, name in self.column_phrases.get(table, []) if name == column)


class JoinPlanner:
    """Foreign-key paths between tables (both directions), two hops at most."""

    def __init__(self, catalog: Catalog) -> None:
        self.edges: dict[str, list[tuple[str, str, str]]] = {t.name: [] for t in catalog.tables}
        for table in catalog.tables:
            for fk in table.foreign_keys:
                target = catalog.table(fk.references_table)
                if target is None or len(fk.columns) != 1:
                    continue
                left, right = fk.columns[0], fk.references_columns[0] or primary_key(target)
                self.edges[table.name].append((target.name, left, right))
                self.edges[target.name].append((table.name, right, left))

    def path(self, start: str, goal: str) -> list[JoinStep] | None:
        """[(from_table, from_column, to_table, to_column)], or None when farther than two hops."""
        if start == goal:
            return []
        queue: deque[tuple[str, list[JoinStep]]] = deque([(start, [])])
        seen = {start}
        while queue:
            table, steps = queue.popleft()
            for neighbour, here, there in self.edges.get(table, []) if len(steps) < 2 else []:
                if neighbour in seen:
                    continue
                route = [*steps, (table, here, neighbour, there)]
                if neighbour == goal:
                    return route
                seen.add(neighbour)
                queue.append((neighbour, route))
        return None

    def parents(self, table: str, catalog: Catalog) -> list[str]:
        """Tables ``table`` references, directly."""
        found = catalog.table(table)
        if found is None:
            return []
        return [fk.references_table for fk in found.foreign_keys if catalog.table(fk.references_table)]


class Schema:
    """One catalog with its phrase index and join planner: what every matching step reads."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = SchemaIndex(catalog)
        self.joins = JoinPlanner(catalog)

    def table(self, name: str) -> CatalogTable:
        found = self.catalog.table(name)
        if found is None:
            raise LookupError(f"no table {name} in the catalog")
        return found

    def parents(self, table: str) -> list[str]:
        return self.joins.parents(table, self.catalog)

    def children(self, table: str) -> list[str]:
        """Tables that reference ``table``."""
        return [t.name for t in self.catalog.tables if table in self.parents(t.name)]

    def reachable(self, start: str, goal: str) -> bool:
        return self.joins.path(start, goal) is not None
