"""What an execution is bounded by and what it returns."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

JsonScalar = str | int | float | bool | None


class ExecutionLimits(BaseModel):
    """Layer three: every execution stops at these, whatever the statement asks for."""

    model_config = ConfigDict(frozen=True)

    max_rows: int = Field(default=1000, ge=1, le=100_000)
    max_bytes: int = Field(default=1_000_000, ge=1024, le=50_000_000, description="JSON size of the rows")
    timeout_s: float = Field(default=5.0, gt=0, le=120)


class ResultSet(BaseModel):
    columns: list[str]
    rows: list[list[JsonScalar]]
    row_count: int
    truncated: bool = Field(description="true when the row or byte limit stopped the read")
    truncated_by: str | None = Field(default=None, description="'rows' or 'bytes'")
    elapsed_ms: float
    bytes: int


class QueryPlan(BaseModel):
    """The database's own EXPLAIN output, as text lines and (where the engine has it) structured."""

    dialect: str
    lines: list[str]
    raw: Any = None


def json_value(value: Any) -> JsonScalar:
    """A database value as JSON: decimals as numbers, times as ISO 8601, bytes as base64."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return "base64:" + base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


class RowCollector:
    """Accumulates converted rows until the row or byte limit, and says which one stopped it."""

    def __init__(self, limits: ExecutionLimits) -> None:
        self.limits = limits
        self.rows: list[list[JsonScalar]] = []
        self.bytes = 0
        self.truncated_by: str | None = None

    def add(self, row: tuple[Any, ...] | list[Any]) -> bool:
        """Keep ``row``; False once a limit is reached (the caller stops fetching)."""
        if len(self.rows) >= self.limits.max_rows:
            self.truncated_by = "rows"
            return False
        converted = [json_value(value) for value in row]
        size = len(json.dumps(converted, ensure_ascii=False, default=str))
        if self.bytes + size > self.limits.max_bytes:
            self.truncated_by = "bytes"
            return False
        self.rows.append(converted)
        self.bytes += size
        return True

    def result(self, columns: list[str], elapsed_ms: float) -> ResultSet:
        return ResultSet(
            columns=columns,
            rows=self.rows,
            row_count=len(self.rows),
            truncated=self.truncated_by is not None,
            truncated_by=self.truncated_by,
            elapsed_ms=round(elapsed_ms, 3),
            bytes=self.bytes,
        )
