"""The offline text-to-SQL model (schema matching, no language model): ``OfflineSqlModel(catalog).answer(question)``.

Modules: ``phrasing`` (patterns and normal form), ``schema`` (phrase index, labels, join paths), ``intents`` (the
typed intent), ``conditions`` (filters), ``measures`` (aggregates, measures, grouping targets), ``shapes`` (the
shape of the answer), ``coverage`` (every content word accounted for), ``follow_ups``, ``render`` (SQL), ``model``.
"""

from analyst.offline_sql.follow_ups import is_follow_up
from analyst.offline_sql.intents import (
    Aggregation,
    ColumnRef,
    Condition,
    Intent,
    OrderByAggregate,
    OrderByColumn,
)
from analyst.offline_sql.model import OfflineSqlModel

__all__ = [
    "Aggregation",
    "ColumnRef",
    "Condition",
    "Intent",
    "OfflineSqlModel",
    "OrderByAggregate",
    "OrderByColumn",
    "is_follow_up",
]
