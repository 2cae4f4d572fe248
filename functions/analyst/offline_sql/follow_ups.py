"""Follow-ups change the previous turn's intent: "and by country?" (group), "only 2023" (year), "top 3" (limit),
"what about Canada?" (replace a value)."""

from __future__ import annotations

import re
from dataclasses import replace

from analyst.offline_sql.conditions import stored_values, year_condition
from analyst.offline_sql.intents import Aggregation, Condition, Intent, OrderByAggregate
from analyst.offline_sql.measures import group_target
from analyst.offline_sql.phrasing import (
    FOLLOW_UP,
    FOLLOW_UP_LIMIT,
    GROUP,
    REPLACING,
    TOP,
    YEAR,
    first_number,
    normalise,
)
from analyst.offline_sql.schema import Schema


def is_follow_up(question: str) -> bool:
    """A short question that only makes sense after the previous one ("and by country?", "only 2023")."""
    words = re.findall(r"\w+", question)
    if FOLLOW_UP.match(question):
        return True
    return len(words) <= 3 and bool(re.search(r"\b(?:19|20)\d\d\b|\btop\b|\bby\b|\bonly\b", question, re.I))


def _with_values(schema: Schema, question: str, intent: Intent) -> Intent | None:
    values = stored_values(schema, question, [intent.table], [])
    if not values:
        return None
    kept = intent.conditions
    if REPLACING.search(question):
        replaced = {(v.table, v.column) for v in values}
        kept = tuple(c for c in kept if (c.table, c.column) not in replaced)
    return replace(intent, conditions=(*kept, *values))


def _with_year(schema: Schema, question: str, intent: Intent) -> Intent | None:
    if not YEAR.search(question):
        return None
    others = tuple(c for c in intent.conditions if c.op != "year")
    year = year_condition(schema, question, intent.table)
    if not isinstance(year, Condition):
        return None
    return replace(intent, conditions=(*others, year))


def _with_limit(question: str, intent: Intent) -> Intent | None:
    top = TOP.search(question) or FOLLOW_UP_LIMIT.search(question)
    if not top:
        return None
    order = intent.order
    if order is None and intent.aggregates:
        order = OrderByAggregate(0, True)
    return replace(intent, limit=first_number(top), order=order)


def _with_grouping(schema: Schema, question: str, intent: Intent) -> Intent | None:
    group = GROUP.search(question)
    grouping = group_target(schema, normalise(group.group(1)), intent.table) if group else None
    if grouping is None:
        return None
    return replace(
        intent,
        group_by=grouping,
        columns=(),
        label_only=False,
        aggregates=intent.aggregates or (Aggregation("count", intent.table),),
        order=OrderByAggregate(0, True),
    )


def follow_up(schema: Schema, question: str, previous: Intent) -> Intent | None:
    """The previous intent changed by the follow-up, or None when it changes nothing the model understands."""
    values = _with_values(schema, question, previous)
    intent = values or previous
    year = _with_year(schema, question, intent)
    intent = year or intent
    limit = _with_limit(question, intent)
    intent = limit or intent
    grouping = None if values else _with_grouping(schema, question, intent)
    intent = grouping or intent
    return intent if any(change is not None for change in (values, year, limit, grouping)) else None
