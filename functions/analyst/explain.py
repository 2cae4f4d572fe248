"""Plain-language answers and explanations, composed from the result and the SQL's own syntax tree."""

from __future__ import annotations

from typing import Any

from stratus.sql.guard import ValidatedQuery


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def short_answer(columns: list[str], rows: list[list[Any]], row_count: int, reached_cap: bool) -> str:
    """One or two sentences a person can read: the value, the top rows, how many there are."""
    if row_count == 0:
        return "No rows match."
    if row_count == 1 and len(columns) == 1:
        return f"{columns[0]}: {_format(rows[0][0])}."
    if row_count == 1:
        pairs = ", ".join(f"{c} {_format(v)}" for c, v in zip(columns, rows[0], strict=False))
        return f"One row: {pairs}."
    more = " (the row limit was reached; there may be more)" if reached_cap else ""
    first = ", ".join(_format(v) for v in rows[0][:3])
    return f"{row_count:,} rows{more}. First: {first}."


def describe(validated: ValidatedQuery) -> str:
    """The SQL in plain language: what it computes, from which tables, joined how, filtered and ordered how."""
    import sqlglot
    from sqlglot import exp

    dialect = validated.dialect
    root = sqlglot.parse_one(validated.sql, read=dialect)
    parts: list[str] = []
    select = root if isinstance(root, exp.Select) else root.find(exp.Select)
    if isinstance(root, exp.SetOperation):
        parts.append(f"Combines {root.key.upper()} of several queries.")
    if select is not None:
        distinct = "distinct " if select.args.get("distinct") else ""
        outputs = [_output(projection, dialect) for projection in select.expressions]
        parts.append(f"Returns {distinct}{', '.join(outputs)}")
    if validated.tables:
        parts.append(f"from {', '.join(validated.tables)}")
    for join in validated.joins:
        parts.append(f"joined ({join.kind.lower()}) {join.left} with {join.right} on {join.condition}")
    if select is not None:
        parts.extend(_filters(select, dialect))
    order = root.args.get("order")
    if order is not None:
        parts.append("ordered by " + ", ".join(_ordering(o, dialect) for o in order.expressions))
    parts.append(
        f"at most {validated.limit:,} rows" + (" (limit added by the guard)" if validated.limit_applied else "")
    )
    return ", ".join(parts).replace(". Returns", ". It returns") + "."


def _output(projection: Any, dialect: str) -> str:
    """One projection in words: a count, an aggregate, every column, or the expression itself."""
    from sqlglot import exp

    inner = projection.this if isinstance(projection, exp.Alias) else projection
    if isinstance(inner, exp.Count):
        if isinstance(inner.this, exp.Star):
            return "the number of rows"
        return f"the count of {inner.this.sql(dialect=dialect)}"
    if isinstance(inner, exp.AggFunc):
        return f"the {type(inner).__name__.lower()} of {inner.this.sql(dialect=dialect)}"
    if isinstance(inner, exp.Star) or (isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star)):
        return "every column"
    text: str = inner.sql(dialect=dialect)
    return text


def _filters(select: Any, dialect: str) -> list[str]:
    parts = []
    where = select.args.get("where")
    if where is not None:
        parts.append(f"keeping rows where {where.this.sql(dialect=dialect)}")
    group = select.args.get("group")
    if group is not None:
        parts.append("grouped by " + ", ".join(e.sql(dialect=dialect) for e in group.expressions))
    having = select.args.get("having")
    if having is not None:
        parts.append(f"keeping groups where {having.this.sql(dialect=dialect)}")
    return parts


def _ordering(ordered: Any, dialect: str) -> str:
    direction = "descending" if ordered.args.get("desc") else "ascending"
    return f"{ordered.this.sql(dialect=dialect)} {direction}"
