"""An intent as one SELECT: joins along foreign keys, projections or aggregates, WHERE, GROUP BY, ORDER BY, LIMIT."""

from __future__ import annotations

from analyst.offline_sql.intents import Aggregation, Condition, Intent, OrderByAggregate, Scalar
from analyst.offline_sql.phrasing import spoken
from analyst.offline_sql.schema import Schema, label_column, primary_key


def tables_of(intent: Intent) -> list[str]:
    """The tables besides the intent's own that its columns, conditions and ordering name."""
    names = [c.table for c in intent.conditions] + [c.table for c in intent.columns]
    names += [a.table for a in intent.aggregates] + list(intent.requires)
    if intent.group_by:
        names.append(intent.group_by.table)
    if intent.order is not None and not isinstance(intent.order, OrderByAggregate):
        names.append(intent.order.column.table)
    return list(dict.fromkeys(n for n in names if n != intent.table))


def quote(name: str | None) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def column(table: str, name: str) -> str:
    return f"{quote(table)}.{quote(name)}"


def _alias(aggregation: Aggregation, index: int) -> str:
    if aggregation.function == "count":
        return "count"
    return f"{aggregation.function}_{spoken(aggregation.column or str(index)).replace(' ', '_')}"


def _prefix(schema: Schema) -> str:
    return f"{quote(schema.catalog.schema_name)}." if schema.catalog.schema_name else ""


def _joins(schema: Schema, intent: Intent) -> list[str]:
    joins: list[str] = []
    joined = {intent.table}
    for name in tables_of(intent):
        for from_table, from_column, to_table, to_column in schema.joins.path(intent.table, name) or []:
            if to_table in joined:
                continue
            on = f"{column(from_table, from_column)} = {column(to_table, to_column)}"
            joins.append(f"JOIN {_prefix(schema)}{quote(to_table)} ON {on}")
            joined.add(to_table)
    return joins


def _group_columns(schema: Schema, intent: Intent) -> list[str]:
    if intent.group_by is None:
        return []
    grouped = column(intent.group_by.table, intent.group_by.column)
    table = schema.catalog.table(intent.group_by.table)
    if table is None:
        return [grouped]
    key = primary_key(table)
    # grouping by an entity (its label): two artists of the same name stay two groups
    if key != intent.group_by.column and intent.group_by.column == label_column(table):
        return [column(table.name, key), grouped]
    return [grouped]


def _expression(schema: Schema, intent: Intent, aggregation: Aggregation) -> str:
    if aggregation.function == "count" and intent.requires:
        return f"COUNT(DISTINCT {column(intent.table, primary_key(schema.table(intent.table)))})"
    if aggregation.function == "count":
        return "COUNT(*)"
    target = column(aggregation.table, aggregation.column or "")
    if aggregation.function == "count_distinct":
        return f"COUNT(DISTINCT {target})"
    return f"{aggregation.function.upper()}({target})"


def _select(schema: Schema, intent: Intent) -> list[str]:
    select: list[str] = []
    if intent.group_by is not None:
        select.append(column(intent.group_by.table, intent.group_by.column))
    for index, aggregation in enumerate(intent.aggregates):
        if intent.label_only and intent.group_by:
            continue
        expression = _expression(schema, intent, aggregation)
        select.append(f"{expression} AS {quote(_alias(aggregation, index))}" if intent.group_by else expression)
    if select:
        return select
    if intent.columns:
        return [column(c.table, c.column) for c in intent.columns]
    return [f"{quote(intent.table)}.*"]


def condition_sql(condition: Condition, dialect: str) -> str:
    target = column(condition.table, condition.column)
    if condition.op == "year":
        year = int(condition.values[0])
        if dialect == "sqlite":
            return f"strftime('%Y', {target}) = '{year}'"
        return f"EXTRACT(YEAR FROM {target}) = {year}"
    if condition.op == "in":
        return f"{target} IN ({', '.join(literal(v) for v in condition.values)})"
    if condition.op == "like":
        return f"{target} LIKE {literal(condition.values[0])}"
    return f"{target} {condition.op} {literal(condition.values[0])}"


def _order(schema: Schema, intent: Intent) -> str:
    order = intent.order
    if order is None:
        return ""
    if isinstance(order, OrderByAggregate):
        if not intent.aggregates:
            return ""
        expression = _expression(schema, intent, intent.aggregates[order.index])
        return f" ORDER BY {expression} {'DESC' if order.descending else 'ASC'}"
    return f" ORDER BY {column(order.column.table, order.column.column)} {'DESC' if order.descending else 'ASC'}"


def render(schema: Schema, intent: Intent) -> str:
    distinct = intent.distinct or bool(intent.requires and not intent.aggregates)
    sql = "SELECT " + ("DISTINCT " if distinct else "") + ", ".join(_select(schema, intent))
    sql += f" FROM {_prefix(schema)}{quote(intent.table)}"
    joins = _joins(schema, intent)
    if joins:
        sql += " " + " ".join(joins)
    where = [condition_sql(c, schema.catalog.dialect) for c in intent.conditions]
    if where:
        sql += " WHERE " + " AND ".join(where)
    group = _group_columns(schema, intent)
    if group:
        sql += " GROUP BY " + ", ".join(group)
    sql += _order(schema, intent)
    if intent.limit is not None:
        sql += f" LIMIT {int(intent.limit)}"
    return sql
