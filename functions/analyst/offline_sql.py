"""The offline text-to-SQL model: schema matching, no language model, labelled offline in every answer.

It maps a question onto the catalog: which table it is about (names, plurals, a few synonyms), which columns
it names, which stored values it mentions (low-cardinality text columns), quoted strings, numbers, years and
comparisons, and one of a few shapes: count, list, aggregate (sum/avg/min/max), top-N, group-by, most-common.
Joins follow foreign keys (two hops at most). Follow-ups ("and by country?", "only 2023", "what about Canada?")
change the previous turn's intent. When the question needs more than that it says so plainly, and when it
could mean several things it lists them instead of guessing.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from stratus.sql import Catalog, CatalogColumn, CatalogTable

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
_LEAD_AGGREGATES: Final[list[tuple[str, Aggregate]]] = [
    (r"\b(?:average|mean|avg)\b", "avg"),
    (r"\b(?:total|sum of|sum)\b(?!\s+number)", "sum"),
    (r"\b(?:maximum|max|highest|largest|longest|biggest|most expensive)\b", "max"),
    (r"\b(?:minimum|min|lowest|smallest|shortest|cheapest|least expensive)\b", "min"),
]
_COUNT: Final = re.compile(r"\b(?:how many|number of|count(?: of)?|total number of|amount of)\b", re.I)
_BEYOND: Final = re.compile(
    r"\b(?:not have|don't have|do not have|without any|never|no albums?|have not|haven't|more than one|"
    r"at least \d+ \w+s\b|ratio|percent|percentage|compare|comparison|trend|difference|correlat|why|predict|"
    r"forecast|median|each month|per month|monthly|weekly|year over year|per year|by year|each year|yearly|annual|"
    r"per quarter|by month|over time|before|after|since|between|both|"
    r"who help|who helps|serves?|at most \d+ customers|or more|or fewer|or less)",
    re.I,
)
_TOP: Final = re.compile(
    r"\btop\s+(\d+)\b|\bfirst\s+(\d+)\b|\b(\d+)\s+(?:most|largest|biggest|highest|best|longest|top|richest)\b", re.I
)
_MOST_COMMON: Final = re.compile(r"\b(?:most|least)\s+(?:common|frequent|popular|used)\b", re.I)
_HAS_THE_MOST: Final = re.compile(
    r"\b(?:which|what)\s+(?P<group>[a-z]+(?: [a-z]+)?)\s+(?:has|have|had|gets?|got)\s+the\s+"
    r"(?P<order>most|fewest|least)\s+(?P<counted>[a-z]+(?: [a-z]+)?)",
    re.I,
)
_THE_SUPERLATIVE: Final = re.compile(
    r"\bthe\s+(?:\d+\s+)?(longest|shortest|most expensive|cheapest|least expensive|largest|biggest|smallest)\s+(\w+)",
    re.I,
)
_NUMBER: Final = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
_PROPER: Final = re.compile(r"(?<![\w'])[A-Z][\w/&'.-]*[\w]|\b\w+/\w+\b")
_GROUP: Final = re.compile(
    r"\b(?:per|by|for each|for every|in each|each|grouped by|broken down by|across)\s+(?:the\s+)?([a-z][\w ]{1,30})",
    re.I,
)
_COMPARE: Final = re.compile(
    r"\b(greater|more|bigger|larger|higher|above|over|longer|less|smaller|lower|below|under|fewer|shorter)\s+than\s+"
    r"(\d+(?:\.\d+)?)\s*(minutes?|mins?|seconds?|secs?|hours?|ms|milliseconds?)?",
    re.I,
)
_AT_LEAST: Final = re.compile(r"\bat (least|most)\s+(\d+(?:\.\d+)?)", re.I)
_QUOTED: Final = re.compile(
    r"\"([^\"]{1,100})\"|'([^']{1,100})'|\u201c([^\u201d]{1,100})\u201d|\u2018([^\u2019]{1,100})\u2019"
)
_CONTAINS: Final = re.compile(
    r"\b(?:contain(?:s|ing)?|includ(?:es|ing)|with)\s+(?:the\s+)*(?:word|text|string|phrase)?\s*(?:\"|'|“)?([\w.@-]+)",
    re.I,
)
_ID: Final = re.compile(r"\b(?:with\s+)?(?:id|ID|Id)\s*(?:=|of|is|number)?\s*(\d+)\b")
_YEAR: Final = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
_DISTINCT: Final = re.compile(r"\b(?:distinct|different|unique)\b", re.I)
_ALL_COLUMNS: Final = re.compile(r"\b(?:information|info|details|everything|all columns|all fields|records?)\b", re.I)
_WHICH: Final = re.compile(r"^\s*(?:which|who|what)\s+(\w+)", re.I)
_FOLLOW_UP: Final = re.compile(
    r"^\s*(?:and|or|but|also|now|only|just|then|what about|how about|same|instead|except|excluding|sorted|"
    r"order(?:ed)? by|by|per|for each|broken down|limit|top|show only|filter|restrict)\b",
    re.I,
)
_STOP_WORDS: Final = """
    a an the of in on for to by with and or is are was were be been do does did what which who whom whose how many
    much list show find give get all each every me my our your their there that this those these it its from as at
    than into per please tell number count total
"""
_STOP: Final = frozenset(_STOP_WORDS.split())
_SUPERLATIVE_MEASURES: Final = {
    "longest": "duration",
    "shortest": "duration",
    "most expensive": "price",
    "cheapest": "price",
    "least expensive": "price",
    "largest": "size",
    "biggest": "size",
    "smallest": "size",
}
_GREATER: Final = frozenset({"greater", "more", "bigger", "larger", "higher", "above", "over", "longer"})
_UNITS_MS: Final = {"minute": 60_000, "min": 60_000, "second": 1000, "sec": 1000, "hour": 3_600_000, "ms": 1}


@dataclass
class Condition:
    table: str
    column: str
    op: Literal["=", "in", "like", ">", "<", ">=", "<=", "year"]
    value: Any


@dataclass
class Intent:
    table: str
    columns: list[list[str]] = field(default_factory=list)  # [table, column] projected; empty: all of the table
    aggregates: list[list[Any]] = field(default_factory=list)  # [function, table, column | None]
    conditions: list[Condition] = field(default_factory=list)
    group_by: list[str] | None = None  # [table, column]
    order: list[Any] | None = None  # ["aggregate", index, desc] or ["column", table, column, desc]
    limit: int | None = None
    distinct: bool = False
    label_only: bool = False  # most-common: only the label, not the count
    requires: list[str] = field(default_factory=list)  # "customers who have an invoice": joined, not selected

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Intent:
        conditions = [Condition(**c) for c in data.get("conditions", [])]
        return cls(**{**data, "conditions": conditions})


@dataclass
class OfflineResult:
    kind: Literal["sql", "clarification", "beyond"]
    sql: str | None = None
    intent: Intent | None = None
    message: str = ""
    interpretations: list[str] = field(default_factory=list)
    resolved_question: str = ""


BEYOND_MESSAGE: Final = (
    "The offline model (schema matching, no language model) answers simple questions: counts, lists, top-N, "
    "group-by, sums and averages, and filters on named columns or values. {why} Set MODEL_PROVIDER=bedrock or "
    "openai for the full model path, or send the SQL yourself."
)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(name: str) -> str:
    """``InvoiceLine`` / ``invoice_line`` -> ``invoice line``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|_", " ", name)
    return re.sub(r"\s+", " ", spaced).strip().lower()


def _normalise(text: str) -> str:
    tokens = re.findall(r"[a-z0-9@.&/'-]+", text.lower())
    return " " + " ".join(_singular(t.strip(".'")) for t in tokens) + " "


class _Index:
    """Phrases that name each table and column, matched against a singularised question."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.table_phrases: list[tuple[str, str]] = []
        self.column_phrases: dict[str, list[tuple[str, str]]] = {}
        for table in catalog.tables:
            spoken = _words(table.name)
            phrases = {_singular(spoken), spoken.replace(" ", ""), _singular(spoken.replace(" ", ""))}
            for word, targets in SYNONYMS.items():
                if any(_singular(spoken.replace(" ", "")) == t.replace(" ", "") for t in targets):
                    phrases.add(word)
            self.table_phrases.extend((p, table.name) for p in phrases if p)
            column_phrases: list[tuple[str, str]] = []
            for column in table.columns:
                spoken_column = _words(column.name)
                names = {_singular(spoken_column), spoken_column}
                if spoken_column.endswith(" id"):
                    names.add(spoken_column.replace(" id", " id"))
                for word, targets in SYNONYMS.items():
                    if any(spoken_column.replace(" ", "") == t.replace(" ", "") for t in targets):
                        names.add(word)
                parts = spoken_column.split()
                if (
                    len(parts) > 1
                    and parts[-1] not in ("id", "date", "name")
                    and parts[-1] not in _STOP
                    and len(parts[-1]) > 3
                ):
                    names.add(_singular(parts[-1]))
                column_phrases.extend((_singular(n), column.name) for n in names if n)
            self.column_phrases[table.name] = column_phrases
        self.table_phrases.sort(key=lambda p: -len(p[0]))

    def tables_in(self, text: str) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        taken: list[tuple[int, int]] = []
        for phrase, table in self.table_phrases:
            for match in re.finditer(rf" {re.escape(phrase)} ", text):
                span = (match.start(), match.end())
                if any(s < span[1] and span[0] < e for s, e in taken):
                    continue
                taken.append(span)
                found.append((match.start(), table))
        return sorted(found)

    def columns_in(self, text: str, table: str) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        taken: list[tuple[int, int]] = []
        for phrase, column in sorted(self.column_phrases.get(table, []), key=lambda p: -len(p[0])):
            for match in re.finditer(rf" {re.escape(phrase)} ", text):
                span = (match.start(), match.end())
                if any(s < span[1] and span[0] < e for s, e in taken):
                    continue
                taken.append(span)
                found.append((match.start(), column))
        return sorted(found)


def _is_numeric(column: CatalogColumn) -> bool:
    kind = column.type.upper()
    return any(word in kind for word in ("INT", "NUM", "DEC", "REAL", "FLOAT", "DOUBLE", "MONEY"))


def _is_date(column: CatalogColumn) -> bool:
    kind = column.type.upper()
    return "DATE" in kind or "TIME" in kind


def _label_column(table: CatalogTable) -> str:
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


def _primary_key(table: CatalogTable) -> str:
    primary = [c.name for c in table.columns if c.primary_key]
    return primary[0] if primary else _label_column(table)


class JoinPlanner:
    """Foreign-key paths between tables (both directions), two hops at most."""

    def __init__(self, catalog: Catalog) -> None:
        self.edges: dict[str, list[tuple[str, str, str]]] = {t.name: [] for t in catalog.tables}
        for table in catalog.tables:
            for fk in table.foreign_keys:
                target = catalog.table(fk.references_table)
                if target is None or len(fk.columns) != 1:
                    continue
                left, right = fk.columns[0], fk.references_columns[0] or _primary_key(target)
                self.edges[table.name].append((target.name, left, right))
                self.edges[target.name].append((table.name, right, left))

    def path(self, start: str, goal: str) -> list[tuple[str, str, str, str]] | None:
        """[(from_table, from_column, to_table, to_column)], or None when farther than two hops."""
        if start == goal:
            return []
        queue: deque[tuple[str, list[tuple[str, str, str, str]]]] = deque([(start, [])])
        seen = {start}
        while queue:
            table, steps = queue.popleft()
            if len(steps) >= 2:
                continue
            for neighbour, here, there in self.edges.get(table, []):
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


class OfflineSqlModel:
    """Question -> SQL by schema matching, for one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = _Index(catalog)
        self.joins = JoinPlanner(catalog)
        self.unclear_dates: list[str] = []  # set by _year when a question's year could apply to several dates

    # -- entry point -----------------------------------------------------------------------------

    def answer(self, question: str, previous: Intent | None = None, previous_question: str = "") -> OfflineResult:
        if previous is not None and is_follow_up(question) and not self._names_other_tables(question, previous):
            return self._follow_up(question, previous, previous_question)
        return self._fresh(question)

    def _names_other_tables(self, question: str, previous: Intent) -> bool:
        """A question naming a table the previous one did not use is a new question ("Top 5 artists ...")."""
        used = {previous.table, *self._tables_of(previous)}
        return any(table not in used for _, table in self.index.tables_in(_normalise(question)))

    def _fresh(self, question: str) -> OfflineResult:
        text = _normalise(question)
        if _BEYOND.search(question):
            return self._beyond(question, "This question needs negation, set comparison or time series.")
        quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(question)]
        mentions = self.index.tables_in(text)
        values = self._values(question, [t for _, t in mentions], quoted)
        if not mentions:
            if values:
                tables = sorted({v.table for v in values})
                if len(tables) > 1 or len({(v.table, v.column) for v in values}) > 1:
                    return OfflineResult(
                        kind="clarification",
                        message="Which of these do you mean?",
                        interpretations=[f"{self._plural(v.table)} where {v.column} is {v.value!r}" for v in values],
                        resolved_question=question,
                    )
                mentions = [(0, tables[0])]
            else:
                return self._beyond(question, "It could not match the question to a table of this database.")
        quoted_tables = self._quoted_tables(question, text, quoted, mentions)
        filter_tables = set(quoted_tables.values()) | self._adjacent_value_tables(text, values, mentions)
        candidates = [t for _, t in mentions if t not in filter_tables] or [mentions[0][1]]
        target = candidates[0]
        intent = Intent(table=target)
        # Conditions: stored values, quoted strings, contains, ids, comparisons, years.
        intent.conditions.extend(values)
        if error := self._quoted_conditions(question, text, quoted, quoted_tables, intent):
            return error
        self._id_condition(question, text, mentions, intent)
        self._comparisons(question, text, intent)
        self.unclear_dates = []
        self._year(question, intent)
        if self.unclear_dates:
            return OfflineResult(
                kind="clarification",
                message="Which date should the year apply to?",
                interpretations=self.unclear_dates,
                resolved_question=question,
            )
        if not self._has_the_most(question, intent):
            self._shape(question, text, mentions, intent)
        unexplained = self._unexplained(question, text, quoted, intent)
        if unexplained:
            return self._beyond(question, f"It does not know what {unexplained!r} refers to in this database.")
        if isinstance(intent.group_by, list) and intent.group_by and intent.group_by[0] == "?":
            return OfflineResult(
                kind="clarification",
                message=f"Group {self._plural(target)} by what?",
                interpretations=intent.group_by[1:],
                resolved_question=question,
            )
        if intent.order is not None and intent.order[0] == "?":
            return OfflineResult(
                kind="clarification",
                message=f"Top {self._plural(target)} by which measure?",
                interpretations=list(intent.order[1:]),
                resolved_question=question,
            )
        unreachable = self._unreachable(intent)
        if unreachable:
            return self._beyond(question, f"It cannot join {target} to {unreachable} through foreign keys.")
        used = {intent.table, *self._tables_of(intent)} | self._id_tables(intent)
        for table_name in self._required(question, [t for _, t in mentions if t not in used], intent.table):
            intent.requires.append(table_name)
            used.add(table_name)
        ignored = [t for _, t in mentions if t not in used]
        if ignored:
            return self._beyond(question, f"It cannot tell how {ignored[0]} relates to the answer.")
        if len(_COMPARE.findall(question)) > sum(1 for c in intent.conditions if c.op in (">", "<")):
            return self._beyond(question, "It could not tell which column a comparison is about.")
        return OfflineResult(kind="sql", sql=self.render(intent), intent=intent, resolved_question=question)

    def _required(self, question: str, candidates: list[str], target: str) -> list[str]:
        """Tables the question requires rows in ("... and have an invoice"): an inner join, rows kept once."""
        found = []
        for table_name in dict.fromkeys(candidates):
            for phrase, name in self.index.table_phrases:
                if name != table_name:
                    continue
                lead = r"\b(?:have|has|had|having|with)\s+(?:also\s+)?(?:had\s+)?(?:an?|any|some|at least one)\s+"
                pattern = lead + re.escape(phrase)
                if re.search(pattern, _normalise(question)) and self.joins.path(target, table_name) is not None:
                    found.append(table_name)
                    break
        return found

    def _has_the_most(self, question: str, intent: Intent) -> bool:
        """ "Which country has the most customers?": group the counted table by the named column or table."""
        match = _HAS_THE_MOST.search(question)
        if not match:
            return False
        counted = self.index.tables_in(_normalise(match.group("counted")))
        if not counted:
            return False
        counted_table = counted[0][1]
        grouping = self._group_target(_normalise(match.group("group")), counted_table)
        if grouping is None:
            return False
        intent.table = counted_table
        intent.group_by = grouping
        intent.aggregates = [["count", counted_table, None]]
        intent.order = ["aggregate", 0, match.group("order").lower() == "most"]
        intent.limit = 1
        return True

    def _unexplained(self, question: str, text: str, quoted: list[str], intent: Intent) -> str | None:
        """A name or number the question gives that nothing matched ("tracks by Metallica", "price 1.99").

        Answering without it would answer another question, so the offline model declines instead.
        """
        explained = " ".join(
            str(v) for c in intent.conditions for v in (c.value if isinstance(c.value, list) else [c.value])
        )
        explained += " " + " ".join(quoted)
        numbers_used = {str(c.value) for c in intent.conditions} | {str(intent.limit)}
        top = _TOP.search(question)
        minutes = [m.group(2) for m in _COMPARE.finditer(question)]
        for number in _NUMBER.findall(question):
            if number in explained or number in numbers_used or number in minutes or (top and number in top.group(0)):
                continue
            return str(number)
        tokens = _PROPER.findall(question)
        capitalised = [t for t in tokens if t[:1].isupper()]
        if len(capitalised) > len(question.split()) / 2:
            return None  # Title Case Questions: capitals say nothing
        vocabulary = {word for phrase, _ in self.index.table_phrases for word in phrase.split()}
        vocabulary |= {
            word for phrases in self.index.column_phrases.values() for phrase, _ in phrases for word in phrase.split()
        }
        first_word = question.strip().split()[0] if question.strip() else ""
        for token in tokens:
            lowered = _singular(token.lower().strip(".'"))
            if token == first_word or len(token) < 2 or lowered in _STOP or lowered in vocabulary:
                continue
            if token.lower() in explained.lower() or lowered in {"id", "i"}:
                continue
            return str(token)
        return None

    def _id_tables(self, intent: Intent) -> set[str]:
        """Tables a condition names through a foreign-key column ("the album with ID 5")."""
        found = set()
        for condition in intent.conditions:
            table = self.catalog.table(condition.table)
            for fk in table.foreign_keys if table else []:
                if fk.columns == [condition.column]:
                    found.add(fk.references_table)
        return found

    # -- follow-ups ------------------------------------------------------------------------------

    def _follow_up(self, question: str, previous: Intent, previous_question: str) -> OfflineResult:
        intent = Intent.from_dict(previous.to_dict())
        resolved = f"{previous_question.rstrip(' ?.')} — {question.strip()}"
        changed = False
        values = self._values(question, [intent.table], [])
        if values:
            replacing = re.search(r"\b(?:what|how) about\b|\binstead\b", question, re.I)
            for value in values:
                if replacing:
                    intent.conditions = [
                        c for c in intent.conditions if (c.table, c.column) != (value.table, value.column)
                    ]
                intent.conditions.append(value)
            changed = True
        year = _YEAR.search(question)
        if year:
            intent.conditions = [c for c in intent.conditions if c.op != "year"]
            changed = self._year(question, intent) or changed
        top = _TOP.search(question) or re.search(r"\b(?:limit|only)\s+(\d+)\b", question, re.I)
        if top:
            intent.limit = int(next(g for g in top.groups() if g))
            if intent.order is None and intent.aggregates:
                intent.order = ["aggregate", 0, True]
            changed = True
        group = _GROUP.search(question)
        if group and not values:
            grouping = self._group_target(_normalise(group.group(1)), intent.table)
            if grouping:
                intent.group_by = grouping
                intent.columns = []
                intent.label_only = False
                if not intent.aggregates:
                    intent.aggregates = [["count", intent.table, None]]
                intent.order = ["aggregate", 0, True]
                changed = True
        if not changed:
            return self._beyond(question, "It could not tell how this follow-up changes the previous question.")
        unreachable = self._unreachable(intent)
        if unreachable:
            return self._beyond(question, f"It cannot join {intent.table} to {unreachable} through foreign keys.")
        return OfflineResult(kind="sql", sql=self.render(intent), intent=intent, resolved_question=resolved)

    # -- matching --------------------------------------------------------------------------------

    def _reachable_tables(self, mentioned: list[str]) -> list[str]:
        tables: list[str] = []
        for table in mentioned:
            for candidate in [table, *self.joins.parents(table, self.catalog)]:
                if candidate not in tables:
                    tables.append(candidate)
        return tables

    def _values(self, question: str, mentioned: list[str], quoted: list[str]) -> list[Condition]:
        """Stored values of low-cardinality columns the question mentions (longest first, no overlaps)."""
        scope = self._reachable_tables(mentioned) if mentioned else [t.name for t in self.catalog.tables]
        candidates: list[tuple[int, int, str, str, str]] = []
        for table_name in scope:
            table = self.catalog.table(table_name)
            if table is None:
                continue
            for column in table.columns:
                for value in column.distinct_values or []:
                    if len(value) < 2 or value.lower() in _STOP:
                        continue
                    flags = 0 if len(value) <= 3 else re.I
                    for match in re.finditer(rf"(?<![\w]){re.escape(value)}(?![\w])", question, flags):
                        candidates.append((match.start(), match.end(), table.name, column.name, value))
        candidates.sort(key=lambda c: (-(c[1] - c[0]), scope.index(c[2]), c[0]))
        taken: dict[tuple[int, int], int] = {}  # span -> scope rank of the table that took it
        by_column: dict[tuple[str, str], list[str]] = {}
        for start, end, table_name, column_name, value in candidates:
            rank = scope.index(table_name)
            if (start, end) in taken:
                # The same words match another column: keep it only when no table was named (then it is ambiguous)
                if mentioned and rank > taken[(start, end)]:
                    continue
            elif any(s < end and start < e for s, e in taken):
                continue
            if value in quoted and not mentioned:
                continue
            taken.setdefault((start, end), rank)
            by_column.setdefault((table_name, column_name), []).append(value)
        conditions = []
        for (table_name, column_name), found in by_column.items():
            unique = list(dict.fromkeys(found))
            conditions.append(
                Condition(
                    table_name,
                    column_name,
                    "=" if len(unique) == 1 else "in",
                    unique[0] if len(unique) == 1 else unique,
                )
            )
        return conditions

    def _adjacent_value_tables(self, text: str, values: list[Condition], mentions: list[tuple[int, str]]) -> set[str]:
        """Tables named right beside one of their values ("the Jazz genre", "genre Rock"): context, not subject."""
        found = set()
        for condition in values:
            for value in condition.value if isinstance(condition.value, list) else [condition.value]:
                spoken = _normalise(str(value))
                at = text.find(spoken)
                if at < 0:
                    continue
                for position, table in mentions:
                    if table != condition.table:
                        continue
                    phrase = next(
                        (p for p, t in self.index.table_phrases if t == table and text.startswith(f" {p} ", position)),
                        "",
                    )
                    # the value's trailing space is the mention's leading space, or the other way round
                    if position == at + len(spoken) - 1 or at == position + len(phrase) + 1:
                        found.add(table)
        return found

    def _quoted_tables(
        self, question: str, text: str, quoted: list[str], mentions: list[tuple[int, str]]
    ) -> dict[str, str]:
        """For each quoted string, the table named just before it ("the artist "AC/DC"")."""
        found: dict[str, str] = {}
        lowered = question.lower()
        for value in quoted:
            at = lowered.find(value.lower())
            before = _normalise(question[: max(at - 1, 0)])
            near = self.index.tables_in(" " + " ".join(before.split()[-3:]) + " ")
            if near and not re.search(r"\b(?:contain|word|includ|like)\w*\W*$", question[: max(at - 1, 0)], re.I):
                found[value] = near[-1][1]
        return found

    def _quoted_conditions(
        self, question: str, text: str, quoted: list[str], quoted_tables: dict[str, str], intent: Intent
    ) -> OfflineResult | None:
        known = {str(c.value).lower() for c in intent.conditions if c.op == "="}
        for value in quoted:
            if value.lower() in known:
                continue
            table_name = quoted_tables.get(value)
            if table_name:
                table = self.catalog.table(table_name)
                assert table is not None
                intent.conditions.append(Condition(table.name, _label_column(table), "=", value))
                continue
            column = self._text_column_near(question, value, intent.table)
            intent.conditions.append(Condition(intent.table, column, "like", f"%{value}%"))
        if not quoted:
            contains = _CONTAINS.search(question)
            word = contains.group(1) if contains else ""
            if (
                contains
                and re.search(r"contain|includ", contains.group(0), re.I)
                and not self.index.tables_in(_normalise(word))
            ):
                column = self._text_column_near(question, word, intent.table)
                intent.conditions.append(Condition(intent.table, column, "like", f"%{word}%"))
        return None

    def _text_column_near(self, question: str, value: str, table_name: str) -> str:
        """The column named just before ``value`` ("email that contains ..."), else the table's label."""
        table = self.catalog.table(table_name)
        assert table is not None
        at = question.lower().find(value.lower())
        before = _normalise(question[: max(at, 0)])
        columns = self.index.columns_in(before, table.name)
        if columns:
            return columns[-1][1]
        return _label_column(table)

    def _id_condition(self, question: str, text: str, mentions: list[tuple[int, str]], intent: Intent) -> None:
        match = _ID.search(question)
        if not match:
            return
        before = _normalise(question[: match.start()])
        near = self.index.tables_in(" " + " ".join(before.split()[-3:]) + " ")
        named = near[-1][1] if near else intent.table
        value = int(match.group(1))
        target = self.catalog.table(intent.table)
        assert target is not None
        if named == intent.table:
            intent.conditions.append(Condition(intent.table, _primary_key(target), "=", value))
            return
        for fk in target.foreign_keys:
            if fk.references_table.lower() == named.lower() and len(fk.columns) == 1:
                intent.conditions.append(Condition(intent.table, fk.columns[0], "=", value))
                return
        other = self.catalog.table(named)
        if other is not None:
            intent.conditions.append(Condition(other.name, _primary_key(other), "=", value))

    def _comparisons(self, question: str, text: str, intent: Intent) -> None:
        table = self.catalog.table(intent.table)
        assert table is not None
        for match in _COMPARE.finditer(question):
            word, number, unit = match.group(1).lower(), float(match.group(2)), (match.group(3) or "").lower()
            op: Literal[">", "<"] = ">" if word in _GREATER else "<"
            column = self._numeric_column_near(question[: match.start()], table, unit or word)
            if column is None:
                continue
            value: float = number
            if unit and "millisecond" in column.lower():
                value = number * _UNITS_MS.get(_singular(unit.rstrip("s")) if unit != "ms" else "ms", 1)
            intent.conditions.append(Condition(table.name, column, op, int(value) if value == int(value) else value))
        for match in _AT_LEAST.finditer(question):
            column = self._numeric_column_near(question[: match.start()], table, "")
            if column is not None:
                bound: Literal[">=", "<="] = ">=" if match.group(1).lower() == "least" else "<="
                number = float(match.group(2))
                intent.conditions.append(
                    Condition(table.name, column, bound, int(number) if number == int(number) else number)
                )

    def _numeric_column_near(self, before: str, table: CatalogTable, hint: str) -> str | None:
        named = self.index.columns_in(_normalise(before), table.name)
        numeric = {c.name for c in table.columns if _is_numeric(c) and not c.primary_key}
        for _, column in reversed(named):
            if column in numeric:
                return column
        if hint in ("longer", "shorter") or hint.startswith(("minute", "min", "second", "sec", "hour", "ms")):
            for candidate in table.columns:
                if "millisecond" in candidate.name.lower() or candidate.name.lower() in ("duration", "length"):
                    return candidate.name
        return None

    def _year(self, question: str, intent: Intent) -> bool:
        match = _YEAR.search(question)
        if not match:
            return False
        text = _normalise(question)
        for table_name in [intent.table, *self.joins.parents(intent.table, self.catalog)]:
            table = self.catalog.table(table_name)
            if table is None:
                continue
            dates = [c for c in table.columns if _is_date(c)]
            named = {column for _, column in self.index.columns_in(text, table.name)}
            if len(dates) > 1:
                # BirthDate or HireDate? Only a date column the question names will do.
                dates = [c for c in dates if c.name in named]
                if len(dates) != 1:
                    self.unclear_dates = [f"{table.name}.{c.name}" for c in table.columns if _is_date(c)]
                    return False
            if dates:
                intent.conditions.append(Condition(table.name, dates[0].name, "year", int(match.group(1))))
                return True
        return False

    def _shape(self, question: str, text: str, mentions: list[tuple[int, str]], intent: Intent) -> None:
        table = self.catalog.table(intent.table)
        assert table is not None
        target_at = (
            next(pos for pos, name in mentions if name == intent.table)
            if any(name == intent.table for _, name in mentions)
            else len(text)
        )
        named = self.index.columns_in(text, table.name)
        before_target = [c for pos, c in named if pos <= target_at]
        condition_columns = {c.column for c in intent.conditions if c.table == table.name}
        aggregates = self._aggregates(question, table)
        most_common = _MOST_COMMON.search(question)
        top = _TOP.search(question)
        counting = bool(_COUNT.search(question))
        superlative = _THE_SUPERLATIVE.search(question)
        if (
            superlative
            and not top
            and intent.table in {t for _, t in self.index.tables_in(_normalise(superlative.group(2)))}
        ):
            # "What is the longest track?": the track, not only its length
            found = self._aggregates(superlative.group(0), table)
            if found and found[0][1] == table.name:
                function, measure_table, measure_column = found[0]
                intent.order = ["column", measure_table, measure_column, function != "min"]
                intent.limit = 1
                intent.columns = [[table.name, _label_column(table)], [measure_table, measure_column]]
                return
        if most_common:
            # "the most common genre in all tracks": group the counted table (tracks) by the named one (genre).
            after = _normalise(question[most_common.end() :])
            named_after = self.index.tables_in(" " + " ".join(after.split()[:3]) + " ")
            grouping = None
            if named_after and re.match(r"\s*(?:across|in|among|over|of)\b", after):
                # "the genre that is most frequent across all tracks": grouped before, counted after
                before = self.index.tables_in(_normalise(question[: most_common.start()]))
                if before:
                    named_after = [before[-1], *named_after]
            if named_after:
                grouped = named_after[0][1]
                counted = next((t for _, t in named_after[1:] + mentions if t != grouped), None)
                if counted is None:
                    counted = next(
                        (t.name for t in self.catalog.tables if grouped in self.joins.parents(t.name, self.catalog)),
                        None,
                    )
                grouped_table = self.catalog.table(grouped)
                if counted and grouped_table is not None and self.joins.path(counted, grouped) is not None:
                    intent.table = counted
                    grouping = [grouped, _label_column(grouped_table)]
            else:
                grouping = self._group_target(after, intent.table)
            if grouping:
                intent.group_by = grouping
                intent.aggregates = [["count", intent.table, None]]
                intent.order = ["aggregate", 0, most_common.group(0).lower().startswith("most")]
                intent.limit = 1
                intent.label_only = True
                return
        group = _GROUP.search(question)
        measure_by = self._measure(_normalise(group.group(1)), intent.table) if group else None
        grouping = None
        if group and measure_by is None:
            grouping = self._group_target(_normalise(group.group(1)), intent.table)
            explicit = re.match(r"per|for each|for every|in each|grouped|broken", group.group(0), re.I)
            if grouping and grouping[0] == intent.table and not (aggregates or counting or top):
                grouping = None  # "phone numbers for each employee": a list, not a grouping
            elif grouping and not (aggregates or counting or top or explicit):
                grouping = None  # "albums by the artist AC/DC": a filter, not a grouping
            elif grouping and any(c.table == grouping[0] and c.op in ("=", "in") for c in intent.conditions):
                grouping = None
        if grouping:
            intent.group_by = grouping
            intent.aggregates = aggregates or [["count", intent.table, None]]
            intent.order = ["aggregate", 0, True]
            if top:
                intent.limit = int(next(g for g in top.groups() if g))
            return
        if top:
            intent.limit = int(next(g for g in top.groups() if g))
            if measure_by:
                kind, measure_table, measure_column = measure_by
                if measure_table == intent.table and kind == "column":
                    intent.order = ["column", measure_table, measure_column, True]
                    return
                intent.group_by = [intent.table, _label_column(table)]
                function = "count" if kind == "count" else "sum"
                intent.aggregates = [[function, measure_table, None if kind == "count" else measure_column]]
                intent.order = ["aggregate", 0, True]
                return
            ranked = self._aggregates(question, table)
            if ranked:
                function, measure_table, measure_column = ranked[0]
                intent.order = ["column", measure_table, measure_column, function != "min"]
                return
            intent.order = ["?", *self._measure_choices(intent.table)]
            return
        if counting:
            if _DISTINCT.search(question) and before_target:
                intent.aggregates = [["count_distinct", table.name, before_target[-1]]]
            else:
                intent.aggregates = [["count", table.name, None]]
            return
        if aggregates:
            intent.aggregates = aggregates
            return
        # A list: the columns named before the table ("titles of albums"), or "which X" -> its label.
        which = _WHICH.match(question)
        projected = [c for c in before_target if c not in condition_columns or len(before_target) == 1]
        if projected and not _ALL_COLUMNS.search(question):
            intent.columns = [[table.name, c] for c in dict.fromkeys(projected)]
        elif which and self.index.tables_in(_normalise(which.group(1))) and not _ALL_COLUMNS.search(question):
            intent.columns = [[table.name, _label_column(table)]]
        intent.distinct = bool(_DISTINCT.search(question))

    def _aggregates(self, question: str, table: CatalogTable) -> list[list[Any]]:
        found: list[tuple[int, list[Any]]] = []
        text = question.lower()
        for pattern, function in _LEAD_AGGREGATES:
            for match in re.finditer(pattern, text):
                if function == "sum" and re.match(r"total number", text[match.start() :]):
                    continue
                if function == "sum" and found and table.column("total") is not None:
                    continue  # "average invoice total": Total is the column being averaged
                rest = _normalise(text[match.end() :])
                measure = self._measure(rest, table.name, prefer_first=True)
                hint = _SUPERLATIVE_MEASURES.get(match.group(0))
                if measure is None and hint:
                    measure = self._measure(f" {hint} ", table.name, prefer_first=True)
                if measure is None:
                    measure = self._measure(_normalise(text), table.name, prefer_first=True)
                if measure is None or measure[0] != "column":
                    continue
                found.append((match.start(), [function, measure[1], measure[2]]))
        found.sort(key=lambda item: item[0])
        unique: list[list[Any]] = []
        for _, aggregate in found:
            if aggregate not in unique:
                unique.append(aggregate)
        return unique

    def _measure(self, text: str, table_name: str, prefer_first: bool = False) -> tuple[str, str, str | None] | None:
        """A numeric column (of the table, then of tables referencing it), or ``number of <table>``."""
        counted = re.match(r"\s*(?:the\s+)?(?:number|count)\s+(?:of\s+)?(.*)", text)
        if counted:
            mentioned = self.index.tables_in(" " + counted.group(1).strip() + " ")
            if mentioned:
                return ("count", mentioned[0][1], None)
        order = [table_name] + [
            t.name for t in self.catalog.tables if table_name in self.joins.parents(t.name, self.catalog)
        ]
        for name in order:
            table = self.catalog.table(name)
            if table is None:
                continue
            numeric = {
                c.name
                for c in table.columns
                if _is_numeric(c) and not c.primary_key and not c.name.lower().endswith("id")
            }
            hits = [(pos, c) for pos, c in self.index.columns_in(text, name) if c in numeric]
            if hits:
                return ("column", name, hits[0][1] if prefer_first else hits[-1][1])
        return None

    def _measure_choices(self, table_name: str) -> list[str]:
        choices = []
        for table in self.catalog.tables:
            if table.name != table_name and table_name not in self.joins.parents(table.name, self.catalog):
                continue
            for column in table.columns:
                if _is_numeric(column) and not column.primary_key and not column.name.lower().endswith("id"):
                    choices.append(f"by total {table.name}.{column.name}")
            if table.name != table_name:
                choices.append(f"by number of {self._plural(table.name)}")
        return choices[:6]

    def _group_target(self, phrase: str, table_name: str) -> list[str] | None:
        """``country`` -> a column of the table; ``genre`` -> a referenced table's label."""
        table = self.catalog.table(table_name)
        if table is None:
            return None
        for _, column in self.index.columns_in(phrase, table.name):
            found = table.column(column)
            if (found is not None and not _is_numeric(found)) or (
                found is not None and not found.primary_key and found.distinct_values
            ):
                return [table.name, column]
        for _, other in self.index.tables_in(phrase):
            if other == table_name:
                continue
            other_table = self.catalog.table(other)
            if other_table is not None and self.joins.path(table_name, other) is not None:
                return [other, _label_column(other_table)]
        for name in self.joins.parents(table_name, self.catalog):
            parent = self.catalog.table(name)
            if parent is None:
                continue
            for _, column in self.index.columns_in(phrase, parent.name):
                found = parent.column(column)
                if found is not None and not _is_numeric(found):
                    return [parent.name, column]
        return None

    def _unreachable(self, intent: Intent) -> str | None:
        for name in self._tables_of(intent):
            if self.joins.path(intent.table, name) is None:
                return name
        return None

    @staticmethod
    def _tables_of(intent: Intent) -> list[str]:
        names = [c.table for c in intent.conditions] + [c[0] for c in intent.columns]
        names += [a[1] for a in intent.aggregates] + intent.requires
        if intent.group_by:
            names.append(intent.group_by[0])
        if intent.order and intent.order[0] == "column":
            names.append(intent.order[1])
        return list(dict.fromkeys(n for n in names if n != intent.table))

    def _plural(self, table: str) -> str:
        spoken = _words(table)
        return spoken if spoken.endswith("s") else spoken + "s"

    def _beyond(self, question: str, why: str) -> OfflineResult:
        return OfflineResult(kind="beyond", message=BEYOND_MESSAGE.format(why=why), resolved_question=question)

    # -- rendering -------------------------------------------------------------------------------

    def render(self, intent: Intent) -> str:
        dialect = self.catalog.dialect
        prefix = f"{_quote(self.catalog.schema_name)}." if self.catalog.schema_name else ""

        def col(table: str, column: str) -> str:
            return f"{_quote(table)}.{_quote(column)}"

        joins: list[str] = []
        joined = {intent.table}
        for name in self._tables_of(intent):
            route = self.joins.path(intent.table, name) or []
            for from_table, from_column, to_table, to_column in route:
                if to_table in joined:
                    continue
                joins.append(
                    f"JOIN {prefix}{_quote(to_table)} ON {col(from_table, from_column)} = {col(to_table, to_column)}"
                )
                joined.add(to_table)

        select: list[str] = []
        group: list[str] = []
        if intent.group_by:
            group_table, group_column = intent.group_by
            select.append(col(group_table, group_column))
            group.append(col(group_table, group_column))
            grouped_table = self.catalog.table(group_table)
            if grouped_table is not None:
                key = _primary_key(grouped_table)
                # grouping by an entity (its label): two artists of the same name stay two groups
                if key != group_column and group_column == _label_column(grouped_table):
                    group.insert(0, col(group_table, key))
        target_key = col(intent.table, _primary_key(self.catalog.table(intent.table)))  # type: ignore[arg-type]
        for index, (function, table, column) in enumerate(intent.aggregates):
            if function == "count" and intent.requires:
                expression = f"COUNT(DISTINCT {target_key})"
            elif function == "count":
                expression = "COUNT(*)"
            elif function == "count_distinct":
                expression = f"COUNT(DISTINCT {col(table, column)})"
            else:
                expression = f"{function.upper()}({col(table, column)})"
            if intent.label_only and intent.group_by:
                continue
            alias = _alias(function, column, index)
            select.append(f"{expression} AS {_quote(alias)}" if intent.group_by else expression)
        if not select:
            select = [col(t, c) for t, c in intent.columns] if intent.columns else [f"{_quote(intent.table)}.*"]
        where = [self._condition(c, dialect) for c in intent.conditions]
        distinct = intent.distinct or bool(intent.requires and not intent.aggregates)
        sql = "SELECT " + ("DISTINCT " if distinct else "") + ", ".join(select)
        sql += f" FROM {prefix}{_quote(intent.table)}"
        if joins:
            sql += " " + " ".join(joins)
        if where:
            sql += " WHERE " + " AND ".join(where)
        if group:
            sql += " GROUP BY " + ", ".join(group)
        if intent.order:
            if intent.order[0] == "aggregate" and intent.aggregates:
                function, table, column = intent.aggregates[int(intent.order[1])]
                expression = (
                    "COUNT(*)"
                    if function == "count"
                    else (
                        f"COUNT(DISTINCT {col(table, column)})"
                        if function == "count_distinct"
                        else f"{function.upper()}({col(table, column)})"
                    )
                )
                sql += f" ORDER BY {expression} {'DESC' if intent.order[2] else 'ASC'}"
            elif intent.order[0] == "column":
                sql += f" ORDER BY {col(intent.order[1], intent.order[2])} {'DESC' if intent.order[3] else 'ASC'}"
        if intent.limit is not None:
            sql += f" LIMIT {int(intent.limit)}"
        return sql

    @staticmethod
    def _condition(condition: Condition, dialect: str) -> str:
        column = f"{_quote(condition.table)}.{_quote(condition.column)}"
        if condition.op == "year":
            if dialect == "sqlite":
                return f"strftime('%Y', {column}) = '{int(condition.value)}'"
            return f"EXTRACT(YEAR FROM {column}) = {int(condition.value)}"
        if condition.op == "in":
            return f"{column} IN ({', '.join(_literal(v) for v in condition.value)})"
        if condition.op == "like":
            return f"{column} LIKE {_literal(condition.value)}"
        return f"{column} {condition.op} {_literal(condition.value)}"


def _quote(name: str | None) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _alias(function: str, column: str | None, index: int) -> str:
    if function == "count":
        return "count"
    return f"{function}_{_words(column or str(index)).replace(' ', '_')}"


def is_follow_up(question: str) -> bool:
    """A short question that only makes sense after the previous one ("and by country?", "only 2023")."""
    words = re.findall(r"\w+", question)
    if _FOLLOW_UP.match(question):
        return True
    return len(words) <= 3 and bool(re.search(r"\b(?:19|20)\d\d\b|\btop\b|\bby\b|\bonly\b", question, re.I))
