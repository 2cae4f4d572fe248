"""The offline text-to-SQL model (schema matching, no language model): ``OfflineSqlModel(catalog).answer(question)``.

Modules: ``phrasing`` (patterns and normal form), ``schema`` (phrase index, labels, join paths), ``intents`` (the
typed intent), ``conditions`` (filters), ``measures`` (aggregates, measures, grouping targets), ``shapes`` (the
shape of the answer), ``coverage`` (every content word accounted for), ``follow_ups``, ``render`` (SQL), ``model``.
"""

from analyst.offline_sql.follow_ups import is_follow_up
from analyst.offline_sql.intents import (
    BEYOND_MESSAGE,
    Aggregation,
    Ambiguity,
    ColumnRef,
    Condition,
    Intent,
    OfflineResult,
    Order,
    OrderByAggregate,
    OrderByColumn,
)
from analyst.offline_sql.model import OfflineSqlModel
from analyst.offline_sql.phrasing import SYNONYMS, Aggregate
from analyst.offline_sql.schema import JoinPlanner

__all__ = [
    "BEYOND_MESSAGE",
    "SYNONYMS",
    "Aggregate",
    "Aggregation",
    "Ambiguity",
    "ColumnRef",
    "Condition",
    "Intent",
    "JoinPlanner",
    "OfflineResult",
    "OfflineSqlModel",
    "Order",
    "OrderByAggregate",
    "OrderByColumn",
    "is_follow_up",
]
