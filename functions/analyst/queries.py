"""Questions and their answers: a question (or the caller's own SELECT) validated, run read-only, recorded as a
turn of its session; the session's history; and the explanation of a recorded query."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from analyst.domain import (
    PLAIN_LANGUAGE_REASONS,
    Listing,
    RepairsExhausted,
    answered_body,
    cache_key,
    new_id,
    prior_turns,
    query_view,
    result_key,
    unanswered_body,
)
from analyst.explain import describe
from analyst.generation import (
    Attempt,
    Generation,
    PriorTurn,
    SqlGenerator,
    UnsafeQuestion,
    looks_like_sql,
    screen_question,
)
from analyst.items import DatabaseItem, SessionItem
from analyst.repository import AnalystRepository
from analyst.schemas import ExplainView, JoinView, QueryRequest, QueryView
from analyst.settings import AnalystSettings
from analyst.sources import Sources
from stratus.errors import Conflict, NotFound, StratusError, ValidationFailed
from stratus.identity import Principal
from stratus.observability import MetricUnit, logger, metrics
from stratus.sql import Catalog, ExecutionLimits, QueryFailed, ResultSet, UnsafeQuery
from stratus.sql.guard import ValidatedQuery, validate


@dataclass
class _Turn:
    """One question being answered: where it is asked, and how long each step took."""

    tenant: str
    session: SessionItem
    database: DatabaseItem
    catalog: Catalog
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)

    def took(self, step: str, began: float) -> None:
        self.timings[step] = self.timings.get(step, 0.0) + (time.perf_counter() - began) * 1000


@dataclass(frozen=True)
class HistoryListing:
    session_id: str
    database_id: str
    turns: Listing[QueryView]


class QueryService:
    def __init__(
        self, settings: AnalystSettings, repository: AnalystRepository, sources: Sources, generator: SqlGenerator
    ) -> None:
        self.settings = settings
        self.repository = repository
        self.sources = sources
        self.generator = generator

    @property
    def limits(self) -> ExecutionLimits:
        return ExecutionLimits(
            max_rows=self.settings.analyst_max_rows,
            max_bytes=self.settings.analyst_max_result_bytes,
            timeout_s=self.settings.analyst_statement_timeout_s,
        )

    def ask(self, principal: Principal, session_id: str, request: QueryRequest) -> QueryView:
        """Answer a question (or run the caller's SELECT); refusals and outcomes are counted as EMF metrics."""
        try:
            view = self._ask(principal, session_id, request)
        except (UnsafeQuery, UnsafeQuestion, RepairsExhausted) as refused:
            metrics.add_metric(name="AnalystRefused", unit=MetricUnit.Count, value=1)
            logger.info("analyst refused", extra={"reason": refused.extensions.get("reason", refused.type_slug)})
            raise
        metrics.add_metric(name=f"Analyst{view.status.capitalize()}", unit=MetricUnit.Count, value=1)
        for name, value in view.elapsed_ms.items():
            metrics.add_metric(
                name=f"Analyst{name.title().replace('_', '')}", unit=MetricUnit.Milliseconds, value=value
            )
        return view

    def _ask(self, principal: Principal, session_id: str, request: QueryRequest) -> QueryView:
        tenant = principal.tenant_id
        session = self.repository.get_session(tenant, session_id)
        database = self.repository.get_database(tenant, session.database_id)
        turn = _Turn(tenant, session, database, self.sources.catalog(tenant, database))
        validated = self._own_sql(request, turn)
        if validated is not None:
            own_result = self._execute(turn, validated)
            return self._record(turn, answered_body(None, None, validated, own_result), own_result)
        question = request.question
        assert question is not None
        screen_question(question, tenant_id=tenant, database_id=database.sk)
        recent = list(self.repository.turns(tenant, session.sk, newest_first=True, limit=10))
        history = prior_turns(recent)
        key = cache_key(turn.catalog, question, history)
        use_cache = self.settings.analyst_cache_ttl_s > 0
        if use_cache and request.use_cache:
            hit = self.repository.cached(tenant, database.sk, key)
            if hit is not None:
                return self._replay(turn, question, hit)
        body, result = self._generate_and_run(turn, question, history)
        view = self._record(turn, body, result)
        if result is not None and use_cache:
            stored = {name: value for name, value in body.items() if name not in ("question", "cached")}
            entry = {"body": stored, "result_key": result_key(session.sk, view.query_id)}
            self.repository.cache(tenant, database.sk, key, entry, self.settings.analyst_cache_ttl_s)
        return view

    def _own_sql(self, request: QueryRequest, turn: _Turn) -> ValidatedQuery | None:
        """The caller's SELECT; "SELECT ..." typed as a question runs as SQL, "Select the longest tracks" does not."""
        if request.sql is not None:
            return self._validate(request.sql, turn)
        if request.question is None or not looks_like_sql(request.question):
            return None
        try:
            return self._validate(request.question, turn)
        except UnsafeQuery as refused:
            if refused.reason not in PLAIN_LANGUAGE_REASONS:
                raise
            return None

    def _replay(self, turn: _Turn, question: str, hit: dict[str, Any]) -> QueryView:
        cached_result = ResultSet.model_validate(self.repository.get_json(turn.tenant, hit["result_key"]))
        body = {**hit["body"], "question": question, "cached": True}
        turn.timings = {"cache_ms": 0.0}
        return self._record(turn, body, cached_result)

    def _generate_and_run(
        self, turn: _Turn, question: str, history: list[PriorTurn]
    ) -> tuple[dict[str, Any], ResultSet | None]:
        generator = self.generator
        failures: list[Attempt] = []
        budget = 1 + (0 if generator.offline else self.settings.analyst_max_repairs)
        generation: Generation | None = None
        attempts = 0
        while attempts < budget:
            attempts += 1
            began = time.perf_counter()
            generation = generator.generate(question, turn.catalog, history, failures)
            turn.took("model_ms", began)
            if generation.kind != "sql" or generation.sql is None:
                break
            try:
                validated = self._validate(generation.sql, turn)
                result = self._execute(turn, validated)
            except (UnsafeQuery, QueryFailed) as error:
                failures.append(Attempt(sql=generation.sql, error=error.detail))
                if generator.offline:
                    # a deterministic model cannot repair its SQL: it explains why it stops instead
                    generation = generator.generate(question, turn.catalog, history, failures)
                    break
                continue
            body = answered_body(question, generation, validated, result, attempts=attempts, repairs=failures)
            return body, result
        assert generation is not None
        return unanswered_body(question, generation, attempts, failures), None

    def _validate(self, sql: str, turn: _Turn) -> ValidatedQuery:
        began = time.perf_counter()
        try:
            return validate(sql, turn.catalog, max_rows=self.settings.analyst_max_rows)
        finally:
            turn.took("validate_ms", began)

    def _execute(self, turn: _Turn, validated: ValidatedQuery) -> ResultSet:
        began = time.perf_counter()
        try:
            return self.sources.database(turn.tenant, turn.database).execute(validated.sql, self.limits)
        finally:
            turn.took("execute_ms", began)

    def _record(self, turn: _Turn, body: dict[str, Any], result: ResultSet | None) -> QueryView:
        """Keep the full result in S3 and the turn (with preview rows) in its session; one or the other, never half."""
        tenant, session = turn.tenant, turn.session
        query_id = new_id("qry")
        stored_result = None
        if result is not None:
            stored_result = result_key(session.sk, query_id)
            self.repository.put_json(tenant, stored_result, result.model_dump(mode="json"))
        stored = {
            **body,
            "query_id": query_id,
            "session_id": session.sk,
            "columns": result.columns if result else [],
            "preview": result.rows[: self.settings.analyst_preview_rows] if result else [],
            "row_count": result.row_count if result else 0,
            "result_key": stored_result,
            "created_at": int(time.time()),
        }
        try:
            number = self.repository.add_turn(tenant, session, query_id, stored)
        except StratusError:
            if stored_result:
                self.repository.blobs.delete(tenant, stored_result)
            raise
        turn.timings["total_ms"] = (time.perf_counter() - turn.started) * 1000
        return query_view({**stored, "turn": number}, result, turn.timings)

    def history(
        self, principal: Principal, session_id: str, limit: int, start: dict[str, Any] | None
    ) -> HistoryListing:
        tenant = principal.tenant_id
        session = self.repository.get_session(tenant, session_id)
        turns, position = self.repository.turn_page(tenant, session.sk, limit, start)
        return HistoryListing(
            session_id=session.sk,
            database_id=session.database_id,
            turns=Listing([query_view(t, None, None) for t in turns], position),
        )

    def result(self, principal: Principal, session_id: str, query_id: str) -> tuple[dict[str, Any], ResultSet]:
        """A recorded turn of this session and its full result (for charts)."""
        tenant = principal.tenant_id
        turn = self.repository.get_turn(tenant, query_id)
        if turn.get("session_id") != session_id:
            raise NotFound(f"query {query_id} not found in session {session_id}")
        if not turn.get("result_key"):
            raise ValidationFailed(f"query {query_id} has no result to chart ({turn.get('status')})")
        return turn, ResultSet.model_validate(self.repository.get_json(tenant, turn["result_key"]))

    def explain(self, principal: Principal, query_id: str) -> ExplainView:
        tenant = principal.tenant_id
        turn = self.repository.get_turn(tenant, query_id)
        if not turn.get("sql"):
            raise ValidationFailed(f"query {query_id} has no SQL to explain ({turn.get('status')})")
        session = self.repository.get_session(tenant, turn["session_id"])
        database = self.repository.get_database(tenant, session.database_id)
        catalog = self.sources.catalog(tenant, database)
        try:
            validated = validate(turn["sql"], catalog, max_rows=self.settings.analyst_max_rows)
        except UnsafeQuery as error:
            raise Conflict(
                f"the database's schema changed and the query no longer validates: {error.detail}"
            ) from error
        plan = self.sources.database(tenant, database).explain(validated.sql, self.limits)
        return ExplainView(
            query_id=query_id,
            sql=validated.sql,
            explanation=describe(validated),
            tables=validated.tables,
            columns=validated.columns,
            joins=[JoinView(**j.__dict__) for j in validated.joins],
            plan=plan.lines,
            plan_dialect=plan.dialect,
        )
