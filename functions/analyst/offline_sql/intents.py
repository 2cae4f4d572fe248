"""What a question asks for, as typed values: the table, projected columns, aggregations, conditions, grouping,
ordering and limit. An intent renders to one SELECT and is kept with a session turn (as a dict) so a follow-up
can change it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Function = Literal["count", "count_distinct", "sum", "avg", "min", "max"]
Operator = Literal["=", "in", "like", ">", "<", ">=", "<=", "year"]
type Scalar = str | int | float
type Value = Scalar | tuple[str, ...]


@dataclass(frozen=True)
class ColumnRef:
    table: str
    column: str


@dataclass(frozen=True)
class Condition:
    table: str
    column: str
    op: Operator
    value: Value

    @property
    def values(self) -> tuple[Scalar, ...]:
        return self.value if isinstance(self.value, tuple) else (self.value,)


@dataclass(frozen=True)
class Aggregation:
    function: Function
    table: str
    column: str | None = None  # None: COUNT(*)


@dataclass(frozen=True)
class OrderByAggregate:
    index: int  # position in Intent.aggregates
    descending: bool


@dataclass(frozen=True)
class OrderByColumn:
    column: ColumnRef
    descending: bool


type Order = OrderByAggregate | OrderByColumn


@dataclass(frozen=True)
class Intent:
    table: str
    columns: tuple[ColumnRef, ...] = ()  # empty: every column of the table
    aggregates: tuple[Aggregation, ...] = ()
    conditions: tuple[Condition, ...] = ()
    group_by: ColumnRef | None = None
    order: Order | None = None
    limit: int | None = None
    distinct: bool = False
    label_only: bool = False  # most-common: only the label, not the count
    requires: tuple[str, ...] = ()  # "customers who have an invoice": joined, not selected

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (lists, not tuples); the order says which kind it is."""
        data = asdict(self)
        if self.order is not None:
            kind = "aggregate" if isinstance(self.order, OrderByAggregate) else "column"
            data["order"] = {"kind": kind, **asdict(self.order)}
        plain: dict[str, Any] = json.loads(json.dumps(data))
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Intent:
        return cls(
            table=str(data["table"]),
            columns=tuple(_column(c) for c in data.get("columns") or ()),
            aggregates=tuple(_aggregation(a) for a in data.get("aggregates") or ()),
            conditions=tuple(_condition(c) for c in data.get("conditions") or ()),
            group_by=_column(data["group_by"]) if data.get("group_by") else None,
            order=_order(data.get("order")),
            limit=data.get("limit"),
            distinct=bool(data.get("distinct")),
            label_only=bool(data.get("label_only")),
            requires=tuple(data.get("requires") or ()),
        )


def _column(data: Any) -> ColumnRef:
    if isinstance(data, dict):
        return ColumnRef(str(data["table"]), str(data["column"]))
    return ColumnRef(str(data[0]), str(data[1]))  # turns stored before intents were typed: [table, column]


def _aggregation(data: Any) -> Aggregation:
    if isinstance(data, dict):
        return Aggregation(data["function"], str(data["table"]), data.get("column"))
    return Aggregation(data[0], str(data[1]), data[2])


def _condition(data: dict[str, Any]) -> Condition:
    value = data["value"]
    return Condition(data["table"], data["column"], data["op"], tuple(value) if isinstance(value, list) else value)


def _order(data: Any) -> Order | None:
    if not data:
        return None
    if isinstance(data, dict):
        if data["kind"] == "aggregate":
            return OrderByAggregate(int(data["index"]), bool(data["descending"]))
        return OrderByColumn(_column(data["column"]), bool(data["descending"]))
    if data[0] == "aggregate":
        return OrderByAggregate(int(data[1]), bool(data[2]))
    return OrderByColumn(ColumnRef(data[1], data[2]), bool(data[3]))


@dataclass(frozen=True)
class Ambiguity:
    """The question can be read several ways; the user picks one."""

    message: str
    interpretations: tuple[str, ...]


@dataclass
class OfflineResult:
    kind: Literal["sql", "clarification", "beyond"]
    sql: str | None = None
    intent: Intent | None = None
    message: str = ""
    interpretations: list[str] = field(default_factory=list)
    resolved_question: str = ""


BEYOND_MESSAGE = (
    "The offline model (schema matching, no language model) answers simple questions: counts, lists, top-N, "
    "group-by, sums and averages, and filters on named columns or values. {why} Set MODEL_PROVIDER=bedrock or "
    "openai for the full model path, or send the SQL yourself."
)


def beyond(question: str, why: str) -> OfflineResult:
    return OfflineResult(kind="beyond", message=BEYOND_MESSAGE.format(why=why), resolved_question=question)


def clarify(question: str, ambiguity: Ambiguity) -> OfflineResult:
    return OfflineResult(
        kind="clarification",
        message=ambiguity.message,
        interpretations=list(ambiguity.interpretations),
        resolved_question=question,
    )
