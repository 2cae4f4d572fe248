"""The offline text-to-SQL model: schema matching, no language model, labelled offline in every answer.

It maps a question onto the catalog: which table it is about (names, plurals, a few synonyms), which columns
it names, which stored values it mentions (low-cardinality text columns), quoted strings, numbers, years and
comparisons, and one of a few shapes: count, list, aggregate (sum/avg/min/max), top-N, group-by, most-common.
Joins follow foreign keys (two hops at most). Follow-ups ("and by country?", "only 2023", "what about Canada?")
change the previous turn's intent. It answers only when every content word of the question is accounted for in
the SQL it writes; when the question needs more than that it says so plainly, and when it could mean several
things it lists them instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from analyst.offline_sql.conditions import (
    adjacent_value_tables,
    comparisons,
    contains_condition,
    id_condition,
    id_tables,
    quoted_conditions,
    quoted_tables,
    stored_values,
    year_condition,
)
from analyst.offline_sql.coverage import FILLER, FOLLOW_UP_FILLER, shape_mismatch, unaccounted_word
from analyst.offline_sql.follow_ups import follow_up, is_follow_up
from analyst.offline_sql.intents import Ambiguity, Condition, Intent, OfflineResult, beyond, clarify
from analyst.offline_sql.phrasing import BEYOND, COMPARE, QUOTED, REQUIRED_LEAD, normalise, plural
from analyst.offline_sql.render import render, tables_of
from analyst.offline_sql.schema import Schema
from analyst.offline_sql.shapes import Reading, shape
from stratus.sql import Catalog


@dataclass(frozen=True)
class _Subject:
    """The table a fresh question is about, the tables it names and the values it mentions."""

    target: str
    mentions: list[tuple[int, str]]
    values: list[Condition]
    quoted: list[str]
    quoted_tables: dict[str, str]


class OfflineSqlModel:
    """Question -> SQL by schema matching, for one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.schema = Schema(catalog)

    def answer(self, question: str, previous: Intent | None = None, previous_question: str = "") -> OfflineResult:
        if previous is not None and is_follow_up(question) and not self._names_other_tables(question, previous):
            return self._follow_up(question, previous, previous_question)
        return self._fresh(question)

    def render(self, intent: Intent) -> str:
        return render(self.schema, intent)

    def _names_other_tables(self, question: str, previous: Intent) -> bool:
        """A question naming a table the previous one did not use is a new question ("Top 5 artists ...")."""
        used = {previous.table, *tables_of(previous)}
        return any(table not in used for _, table in self.schema.index.tables_in(normalise(question)))

    def _follow_up(self, question: str, previous: Intent, previous_question: str) -> OfflineResult:
        resolved = f"{previous_question.rstrip(' ?.')} — {question.strip()}"
        intent = follow_up(self.schema, question, previous)
        if intent is None:
            return beyond(question, "It could not tell how this follow-up changes the previous question.")
        refusal = self._unreachable(question, intent)
        if refusal is not None:
            return refusal
        word = unaccounted_word(self.schema, question, intent, FILLER | FOLLOW_UP_FILLER)
        if word is not None:
            return beyond(question, f"It does not know what {word!r} changes in the previous question.")
        return OfflineResult(kind="sql", sql=self.render(intent), intent=intent, resolved_question=resolved)

    def _fresh(self, question: str) -> OfflineResult:
        if BEYOND.search(question):
            return beyond(question, "This question needs negation, set comparison or time series.")
        subject = self._subject(question)
        if isinstance(subject, OfflineResult):
            return subject
        conditions = self._conditions(question, subject)
        if isinstance(conditions, Ambiguity):
            return clarify(question, conditions)
        reading = Reading(self.schema, question, normalise(question), subject.mentions)
        shaped = shape(reading, Intent(table=subject.target, conditions=conditions))
        if isinstance(shaped, Ambiguity):
            return clarify(question, shaped)
        return self._checked(question, subject, shaped)

    def _subject(self, question: str) -> _Subject | OfflineResult:
        text = normalise(question)
        quoted = [next(g for g in m.groups() if g) for m in QUOTED.finditer(question)]
        mentions = self.schema.index.tables_in(text)
        values = stored_values(self.schema, question, [t for _, t in mentions], quoted)
        if not mentions:
            return self._subject_of_values(question, values, quoted)
        by_quote = quoted_tables(self.schema, question, quoted)
        context = set(by_quote.values()) | adjacent_value_tables(self.schema, text, values, mentions)
        target = next((t for _, t in mentions if t not in context), mentions[0][1])
        return _Subject(target, mentions, values, quoted, by_quote)

    def _subject_of_values(self, question: str, values: list[Condition], quoted: list[str]) -> _Subject | OfflineResult:
        """No table named: the one table whose values the question mentions, else ask which one."""
        if not values:
            return beyond(question, "It could not match the question to a table of this database.")
        if len({(v.table, v.column) for v in values}) > 1:
            return clarify(
                question,
                Ambiguity(
                    "Which of these do you mean?",
                    tuple(f"{plural(v.table)} where {v.column} is {v.value!r}" for v in values),
                ),
            )
        return _Subject(values[0].table, [(0, values[0].table)], values, quoted, {})

    def _conditions(self, question: str, subject: _Subject) -> tuple[Condition, ...] | Ambiguity:
        """Stored values, quoted strings, contains, ids, comparisons and a year, in that order."""
        found = list(subject.values)
        found += quoted_conditions(
            self.schema, question, subject.quoted, subject.quoted_tables, subject.values, subject.target
        )
        optional = [
            None if subject.quoted else contains_condition(self.schema, question, subject.target),
            id_condition(self.schema, question, subject.target),
        ]
        found += [c for c in optional if c is not None]
        found += comparisons(self.schema, question, subject.target)
        year = year_condition(self.schema, question, subject.target)
        if isinstance(year, Ambiguity):
            return year
        return (*found, year) if year is not None else tuple(found)

    def _checked(self, question: str, subject: _Subject, intent: Intent) -> OfflineResult:
        """The intent as SQL, unless part of the question would be left out of it."""
        refusal = self._unreachable(question, intent)
        if refusal is not None:
            return refusal
        used = {intent.table, *tables_of(intent)} | id_tables(self.schema, intent.conditions)
        required = self._required(question, [t for _, t in subject.mentions if t not in used], intent.table)
        intent = replace(intent, requires=(*intent.requires, *required))
        ignored = [t for _, t in subject.mentions if t not in used | set(required)]
        if ignored:
            return beyond(question, f"It cannot tell how {ignored[0]} relates to the answer.")
        if len(COMPARE.findall(question)) > sum(1 for c in intent.conditions if c.op in (">", "<")):
            return beyond(question, "It could not tell which column a comparison is about.")
        mismatch = shape_mismatch(question, intent)
        if mismatch is not None:
            return beyond(question, mismatch)
        word = unaccounted_word(self.schema, question, intent)
        if word is not None:
            return beyond(question, f"It does not know what {word!r} refers to in this database.")
        return OfflineResult(kind="sql", sql=self.render(intent), intent=intent, resolved_question=question)

    def _unreachable(self, question: str, intent: Intent) -> OfflineResult | None:
        for name in tables_of(intent):
            if not self.schema.reachable(intent.table, name):
                return beyond(question, f"It cannot join {intent.table} to {name} through foreign keys.")
        return None

    def _required(self, question: str, candidates: list[str], target: str) -> list[str]:
        """Tables the question requires rows in ("... and have an invoice"): an inner join, rows kept once."""
        text = normalise(question)
        return [
            table
            for table in dict.fromkeys(candidates)
            if self.schema.reachable(target, table)
            and any(re.search(REQUIRED_LEAD + re.escape(p), text) for p in self.schema.index.phrases_of_table(table))
        ]
