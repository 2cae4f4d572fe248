"""Charts for a result: a suggestion from its shape, a Plotly figure (JSON), and a PNG drawn with matplotlib."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any, Final

from analyst.schemas import ChartSpec

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MAX_CATEGORIES: Final = 40
MAX_PIE_SLICES: Final = 8
_TEMPORAL_NAMES: Final = ("date", "time", "year", "month", "day", "week", "quarter", "period")


def _numeric(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)


def _temporal(name: str, values: list[Any]) -> bool:
    if any(word in name.lower() for word in _TEMPORAL_NAMES):
        return True
    present = [v for v in values if isinstance(v, str)]
    return bool(present) and all(len(v) >= 7 and v[:4].isdigit() and v[4] == "-" for v in present[:20])


def suggest_chart(columns: list[str], rows: list[list[Any]], title: str = "") -> ChartSpec:
    """The chart that fits the result's shape; ``table`` or ``number`` when no chart does."""
    if not rows or not columns:
        return ChartSpec(type="table", title=title, reason="no rows")
    if len(rows) == 1 and len(columns) == 1:
        return ChartSpec(type="number", y=columns[0], title=title, reason="a single value")
    values = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    numeric = [name for name in columns if _numeric(values[name])]
    others = [name for name in columns if name not in numeric]
    temporal = [name for name in others if _temporal(name, values[name])]
    if temporal and numeric:
        return ChartSpec(type="line", x=temporal[0], y=numeric[-1], title=title, reason="a measure over time")
    if others and numeric:
        return _per_category(others[0], numeric[-1], values, len(rows), title)
    if len(numeric) >= 2:
        return _two_measures(numeric, len(rows), title)
    return ChartSpec(type="table", title=title, reason="no numeric column to plot")


def _per_category(x: str, y: str, values: dict[str, list[Any]], row_count: int, title: str) -> ChartSpec:
    if row_count <= MAX_PIE_SLICES and all((v or 0) >= 0 for v in values[y]) and "share" in title.lower():
        return ChartSpec(type="pie", x=x, y=y, title=title, reason="parts of a whole")
    if row_count <= MAX_CATEGORIES:
        return ChartSpec(type="bar", x=x, y=y, title=title, reason="a measure per category")
    return ChartSpec(type="table", title=title, reason=f"more than {MAX_CATEGORIES} categories")


def _two_measures(numeric: list[str], row_count: int, title: str) -> ChartSpec:
    if row_count <= MAX_CATEGORIES and numeric[0].lower().endswith("id"):
        return ChartSpec(type="bar", x=numeric[0], y=numeric[-1], title=title, reason="a measure per key")
    return ChartSpec(type="scatter", x=numeric[0], y=numeric[1], title=title, reason="two measures")


def _series(spec: ChartSpec, columns: list[str], rows: list[list[Any]]) -> tuple[list[Any], list[Any]]:
    def column(name: str | None) -> list[Any]:
        if name is None or name not in columns:
            raise ValueError(f"the result has no column {name!r}; it has {columns}")
        index = columns.index(name)
        return [row[index] for row in rows]

    if spec.type == "number":
        return [], column(spec.y or columns[0])
    if spec.type == "table":
        return [], []
    return column(spec.x), column(spec.y)


def plotly_figure(spec: ChartSpec, columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    """A Plotly figure ``{"data": [...], "layout": {...}}`` (plotly.js and plotly.py accept it as is)."""
    x, y = _series(spec, columns, rows)
    layout: dict[str, Any] = {"title": {"text": spec.title}, "template": "plotly_white"}
    if spec.type == "number":
        trace: dict[str, Any] = {"type": "indicator", "mode": "number", "value": y[0] if y else None}
    elif spec.type == "pie":
        trace = {"type": "pie", "labels": [str(v) for v in x], "values": y}
    elif spec.type == "line":
        trace = {"type": "scatter", "mode": "lines+markers", "x": x, "y": y, "name": spec.y}
    elif spec.type == "scatter":
        trace = {"type": "scatter", "mode": "markers", "x": x, "y": y, "name": spec.y}
    elif spec.type == "bar":
        trace = {"type": "bar", "x": [str(v) for v in x], "y": y, "name": spec.y}
    else:
        trace = {
            "type": "table",
            "header": {"values": columns},
            "cells": {"values": [list(c) for c in zip(*rows, strict=False)]},
        }
    if spec.type in ("bar", "line", "scatter"):
        layout["xaxis"] = {"title": {"text": spec.x}}
        layout["yaxis"] = {"title": {"text": spec.y}}
    return {"data": [trace], "layout": layout}


def _finite(values: list[Any]) -> list[float]:
    return [float(v) if isinstance(v, int | float) and math.isfinite(v) else 0.0 for v in values]


def _draw_number(axes: Axes, x: list[Any], y: list[Any], rows: list[list[Any]], columns: list[str]) -> None:
    axes.axis("off")
    axes.text(0.5, 0.5, f"{y[0] if y else ''}", ha="center", va="center", fontsize=40)


def _draw_pie(axes: Axes, x: list[Any], y: list[Any], rows: list[list[Any]], columns: list[str]) -> None:
    axes.pie(_finite(y), labels=[str(v) for v in x])


def _draw_line(axes: Axes, x: list[Any], y: list[Any], rows: list[list[Any]], columns: list[str]) -> None:
    axes.plot([str(v) for v in x], _finite(y), marker="o")
    axes.tick_params(axis="x", labelrotation=45)


def _draw_scatter(axes: Axes, x: list[Any], y: list[Any], rows: list[list[Any]], columns: list[str]) -> None:
    axes.scatter([float(v) if isinstance(v, int | float) else 0.0 for v in x], _finite(y))


def _draw_bar(axes: Axes, x: list[Any], y: list[Any], rows: list[list[Any]], columns: list[str]) -> None:
    axes.bar([str(v) for v in x], _finite(y))
    axes.tick_params(axis="x", labelrotation=60, labelsize=8)


def _draw_table(axes: Axes, x: list[Any], y: list[Any], rows: list[list[Any]], columns: list[str]) -> None:
    axes.axis("off")
    shown = rows[:20]
    table = axes.table(
        cellText=[[str(v) for v in row] for row in shown] or [[""] * len(columns)], colLabels=columns, loc="center"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)


_DRAWERS: Final = {
    "number": _draw_number,
    "pie": _draw_pie,
    "line": _draw_line,
    "scatter": _draw_scatter,
    "bar": _draw_bar,
    "table": _draw_table,
}


def render_png(spec: ChartSpec, columns: list[str], rows: list[list[Any]]) -> bytes:
    """The same chart as a PNG, drawn server-side with matplotlib's Agg backend."""
    from matplotlib.figure import Figure

    x, y = _series(spec, columns, rows)
    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    axes = figure.subplots()
    _DRAWERS[spec.type](axes, x, y, rows, columns)
    if spec.type in ("bar", "line", "scatter"):
        axes.set_xlabel(spec.x or "")
        axes.set_ylabel(spec.y or "")
    axes.set_title(spec.title[:120])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
