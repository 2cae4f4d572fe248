"""Values and pure decisions the analyst's use cases share: ids, keys, refusals, turn bodies and their views."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Final

from analyst.explain import short_answer
from analyst.figures import suggest_chart
from analyst.generation import Attempt, Generation, PriorTurn, normalise_question
from analyst.offline_sql import is_follow_up
from analyst.schemas import ChartSpec, GeneratorView, QueryView
from stratus.errors import ValidationFailed
from stratus.sql import Catalog, ResultSet
from stratus.sql.guard import ValidatedQuery

# Refusals that mean "this is not SQL about this database" rather than "this SQL is unsafe".
PLAIN_LANGUAGE_REASONS: Final = frozenset({"unparseable", "unknown_table", "unknown_column", "unresolved"})


class RepairsExhausted(ValidationFailed):
    """The model's SQL was refused or failed every time it was asked; nothing but validated reads ran."""

    type_slug = "sql-not-repaired"
    title = "No safe SQL for this question"


@dataclass(frozen=True)
class Listing[T]:
    """One page of a listing and the position after it (None on the last page); routes turn it into a cursor."""

    items: list[T]
    position: dict[str, Any] | None


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def database_prefix(database_id: str) -> str:
    return f"analyst/databases/{database_id}/"


def catalog_key(database_id: str, version: str) -> str:
    return f"{database_prefix(database_id)}catalog-{version}.json"


def result_key(session_id: str, query_id: str) -> str:
    return f"analyst/sessions/{session_id}/results/{query_id}.json"


def chart_key(session_id: str, chart_id: str) -> str:
    return f"analyst/sessions/{session_id}/charts/{chart_id}.png"


def restrict_catalog(catalog: Catalog, tables: list[str] | None, hidden: list[str]) -> Catalog:
    """The catalog an analyst may read: only ``tables`` (all when None), without ``hidden`` ``table.column``s."""
    if tables:
        unknown = [t for t in tables if catalog.table(t) is None]
        if unknown:
            raise ValidationFailed(f"tables not in the database: {unknown}", field="tables")
    for entry in hidden:
        table_name, _, column_name = entry.partition(".")
        table = catalog.table(table_name)
        if table is None or table.column(column_name) is None:
            raise ValidationFailed(
                f"hidden column {entry!r} is not table.column of the database", field="hidden_columns"
            )
    restricted = catalog.restrict(tables, hidden)
    if not restricted.tables:
        raise ValidationFailed("the database has no readable tables", field="tables")
    return restricted


def cache_key(catalog: Catalog, question: str, history: list[PriorTurn]) -> str:
    """Per (schema version, normalised question); a follow-up also by the SQL it follows."""
    context = normalise_question(question)
    if history and is_follow_up(question):
        context += "\n" + (history[-1].sql or "")
    digest = hashlib.sha256(context.encode()).hexdigest()[:32]
    return f"{catalog.version}#{digest}"


def prior_turns(newest_first: list[dict[str, Any]]) -> list[PriorTurn]:
    """The answered turns of a session, oldest first, as the generators see them."""
    return [
        PriorTurn(
            question=turn.get("question") or turn.get("sql") or "",
            resolved_question=turn.get("resolved_question") or turn.get("question") or "",
            sql=turn.get("sql"),
            intent=turn.get("intent"),
        )
        for turn in reversed(newest_first)
        if turn.get("status") == "answered"
    ]


def generator_view(generation: Generation, attempts: int) -> dict[str, Any]:
    return GeneratorView(
        provider=generation.provider, model=generation.model, offline=generation.offline, attempts=attempts
    ).model_dump()


def attempts_view(failures: list[Attempt]) -> list[dict[str, str]]:
    return [{"sql": f.sql, "error": f.error} for f in failures]


def answered_body(
    question: str | None,
    generation: Generation | None,
    validated: ValidatedQuery,
    result: ResultSet,
    *,
    attempts: int = 1,
    repairs: list[Attempt] | None = None,
) -> dict[str, Any]:
    """The stored turn of an answered question (or of the caller's own SQL, without a generation)."""
    reached_cap = result.truncated or (validated.limit_applied and result.row_count >= validated.limit)
    chart = suggest_chart(result.columns, result.rows[:200], title=question or "")
    return {
        "status": "answered",
        "question": question,
        "resolved_question": generation.resolved_question if generation else None,
        "sql": validated.sql,
        "validation": {**validated.summary(), "joins": [j.__dict__ for j in validated.joins]},
        "answer": short_answer(result.columns, result.rows, result.row_count, reached_cap),
        "chart": chart.model_dump(),
        "interpretations": [],
        "generator": generator_view(generation, attempts) if generation else None,
        "repairs": attempts_view(repairs or []),
        "intent": generation.intent if generation else None,
        "cached": False,
        "truncated": reached_cap,
    }


def unanswered_body(question: str, generation: Generation, attempts: int, failures: list[Attempt]) -> dict[str, Any]:
    """The stored turn of a clarification or a question beyond the model: no SQL ran."""
    if generation.kind == "sql":
        raise RepairsExhausted(
            f"the model's SQL was refused or failed {len(failures)} time(s); last: {failures[-1].error}",
            attempts=attempts_view(failures),
        )
    clarification = generation.kind == "clarification"
    answer = generation.message
    if clarification:
        answer = generation.message + " " + " / ".join(generation.interpretations)
    return {
        "status": "clarification" if clarification else "beyond",
        "question": question,
        "resolved_question": generation.resolved_question,
        "sql": None,
        "validation": None,
        "answer": answer,
        "interpretations": generation.interpretations,
        "generator": generator_view(generation, attempts),
        "repairs": attempts_view(failures),
        "intent": None,
        "cached": False,
    }


def query_view(body: dict[str, Any], result: ResultSet | None, timings: dict[str, float] | None) -> QueryView:
    """A stored turn as the API shows it: the whole result when at hand, else the preview rows."""
    rows = result.rows if result is not None else body.get("preview", [])
    return QueryView(
        query_id=body["query_id"],
        session_id=body["session_id"],
        turn=int(body.get("turn", 0)),
        status=body["status"],
        question=body.get("question"),
        resolved_question=body.get("resolved_question"),
        sql=body.get("sql"),
        validation=body.get("validation"),
        columns=body.get("columns", []),
        rows=rows,
        row_count=int(body.get("row_count", 0)),
        truncated=bool(body.get("truncated", False)),
        answer=body["answer"],
        chart=ChartSpec.model_validate(body["chart"]) if body.get("chart") else None,
        interpretations=body.get("interpretations", []),
        generator=GeneratorView.model_validate(body["generator"]) if body.get("generator") else None,
        cached=bool(body.get("cached", False)),
        repairs=body.get("repairs", []),
        elapsed_ms={k: round(v, 3) for k, v in (timings or {}).items()},
        created_at=int(body.get("created_at", 0)),
    )
