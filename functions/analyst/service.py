"""The analyst's use cases: register databases, open sessions, answer questions read-only, chart and explain.

Every method takes the caller's principal first; every item and object it touches is led by that tenant, so
another tenant's database, session or query is simply not found.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from analyst.charts import plotly_figure, render_png, suggest_chart
from analyst.explain import describe, short_answer
from analyst.generation import (
    Attempt,
    Generation,
    ModelSqlGenerator,
    OfflineSqlGenerator,
    PriorTurn,
    SqlGenerator,
    UnsafeQuestion,
    looks_like_sql,
    normalise_question,
    screen_question,
)
from analyst.models import (
    ChartSpec,
    ChartView,
    DatabaseDetail,
    DatabaseView,
    ExplainView,
    FileSource,
    Generator,
    HistoryView,
    JoinView,
    PostgresSource,
    QueryRequest,
    QueryView,
    SampleSource,
    SessionRequest,
    SessionView,
    UploadRequest,
    UploadTicket,
    VisualizeRequest,
)
from analyst.offline_sql import is_follow_up
from analyst.settings import AnalystSettings
from analyst.sources import (
    PostgresParameters,
    ReadOnlyDatabase,
    SecretStore,
    check_upload,
    file_database,
    local_copy,
    parse_postgres,
    postgres_database,
    sample_database,
    stored_file_key,
)
from analyst.store import AnalystStore, DatabaseItem, SessionItem, new_id
from stratus import aws
from stratus.cache import per_container
from stratus.errors import Conflict, StratusError, ValidationFailed
from stratus.identity import Principal
from stratus.observability import MetricUnit, logger, metrics
from stratus.sql import Catalog, ExecutionLimits, QueryFailed, ResultSet, UnsafeQuery
from stratus.sql.guard import ValidatedQuery, validate
from stratus.web import Page, decode_cursor, encode_cursor

# Refusals that mean "this is not SQL about this database" rather than "this SQL is unsafe".
_PLAIN_LANGUAGE_REASONS = frozenset({"unparseable", "unknown_table", "unknown_column", "unresolved"})


class RepairsExhausted(ValidationFailed):
    """The model's SQL was refused or failed every time it was asked; nothing but validated reads ran."""

    type_slug = "sql-not-repaired"
    title = "No safe SQL for this question"


@per_container
def _catalogs() -> dict[tuple[str, str, str], Catalog]:
    return {}


class AnalystService:
    def __init__(
        self,
        settings: AnalystSettings,
        store: AnalystStore,
        generator: SqlGenerator | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self._generator = generator
        self.secrets = secrets or SecretStore(settings)

    @property
    def generator(self) -> SqlGenerator:
        if self._generator is None:
            if self.settings.model_provider == "offline":
                self._generator = OfflineSqlGenerator()
            else:
                from stratus.ai import get_chat_model

                self._generator = ModelSqlGenerator(get_chat_model(self.settings))
        return self._generator

    @property
    def limits(self) -> ExecutionLimits:
        return ExecutionLimits(
            max_rows=self.settings.analyst_max_rows,
            max_bytes=self.settings.analyst_max_result_bytes,
            timeout_s=self.settings.analyst_statement_timeout_s,
        )

    # -- databases ---------------------------------------------------------------------------

    def upload_ticket(self, principal: Principal, request: UploadRequest) -> UploadTicket:
        relative = f"analyst/uploads/{new_id('up')}-{request.filename}"
        ticket = self.store.blobs.presigned_upload(
            principal.tenant_id,
            relative,
            "application/octet-stream",
            self.settings.analyst_max_database_bytes,
            expires_in_s=900,
        )
        return UploadTicket(
            url=ticket.url,
            fields=ticket.fields,
            s3_key=relative,
            max_bytes=self.settings.analyst_max_database_bytes,
            expires_in_s=ticket.expires_in_s,
        )

    def connect(self, principal: Principal, source: SampleSource | FileSource | PostgresSource) -> DatabaseDetail:
        tenant = principal.tenant_id
        database_id = new_id("db")
        secret_arn: str | None = None
        stored_key: str | None = None
        if isinstance(source, SampleSource):
            catalog = sample_database(self.settings).introspect()
            details: dict[str, Any] = {"sample": "chinook"}
        elif isinstance(source, FileSource):
            check_upload(self.settings, self.store.blobs, tenant, source.s3_key)
            stored_key = stored_file_key(database_id, source.kind)
            s3 = aws.client("s3")
            s3.copy_object(
                Bucket=self.store.blobs.bucket,
                Key=self.store.blobs.key_for(tenant, stored_key),
                CopySource={"Bucket": self.store.blobs.bucket, "Key": self.store.blobs.key_for(tenant, source.s3_key)},
            )
            try:
                path = local_copy(self.settings, self.store.blobs, tenant, database_id, source.kind)
                catalog = file_database(source.kind, path).introspect()
            except QueryFailed:
                self.store.blobs.delete(tenant, stored_key)
                raise
            details = {"s3_key": source.s3_key}
        else:
            params = self._postgres_parameters(source)
            database = postgres_database(
                tenant, database_id, params, int(self.settings.analyst_statement_timeout_s) + 1
            )
            catalog = database.introspect()
            details = {
                "host": params.host,
                "port": params.port,
                "database": params.database,
                "user": params.user,
                "schema": params.schema,
                "sslmode": params.sslmode,
            }
            if params.password:
                secret_arn = self.secrets.create(tenant, database_id, params.password)
        restricted = self._restrict(catalog, source.tables, source.hidden_columns)
        catalog_key = f"analyst/databases/{database_id}/catalog-{restricted.version}.json"
        item = DatabaseItem(
            f"{tenant}#DB",
            database_id,
            name=source.name,
            kind=source.kind,
            dialect=restricted.dialect,
            created_at=int(time.time()),
            created_by=principal.user_id,
            source=json.dumps(details),
            secret_arn=secret_arn,
            schema_version=restricted.version,
            catalog_key=catalog_key,
            table_count=len(restricted.tables),
            tables=[t.name for t in restricted.tables],
            hidden_columns=restricted.hidden_columns,
        )
        try:
            self.store.put_json(tenant, catalog_key, restricted.model_dump(mode="json"))
            self.store.put_database(item)
        except Exception:
            # nothing half-written: the copy, the catalog and the secret go when the item cannot be saved
            self.store.blobs.delete(tenant, catalog_key)
            if stored_key:
                self.store.blobs.delete(tenant, stored_key)
            if secret_arn:
                self.secrets.delete(secret_arn)
            raise
        logger.info("database connected", extra={"database_id": database_id, "kind": source.kind})
        return self._detail(item, restricted)

    def _postgres_parameters(self, source: PostgresSource) -> PostgresParameters:
        from stratus.sql.hosts import check_database_host

        params = parse_postgres(source)
        host = check_database_host(params.host, self.settings.analyst_allowed_db_hosts)
        return PostgresParameters(
            host, params.port, params.database, params.user, params.password, params.schema, params.sslmode
        )

    @staticmethod
    def _restrict(catalog: Catalog, tables: list[str] | None, hidden: list[str]) -> Catalog:
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

    def list_databases(self, principal: Principal, limit: int, cursor: str | None) -> Page[DatabaseView]:
        start = decode_cursor(principal.tenant_id, cursor)
        items, last = self.store.list_databases(principal.tenant_id, limit, start)
        return Page[DatabaseView](
            items=[self._view(i) for i in items], next_cursor=encode_cursor(principal.tenant_id, last)
        )

    def get_database(self, principal: Principal, database_id: str) -> DatabaseDetail:
        item = self.store.get_database(principal.tenant_id, database_id)
        return self._detail(item, self.catalog(principal.tenant_id, item))

    def delete_database(self, principal: Principal, database_id: str) -> None:
        tenant = principal.tenant_id
        item = self.store.get_database(tenant, database_id)
        if item.secret_arn:
            self.secrets.delete(item.secret_arn)
        self.store.blobs.delete_prefix(tenant, f"analyst/databases/{database_id}/")
        self.store.drop_cache(tenant, database_id)
        self.store.delete_database(item)

    def catalog(self, tenant_id: str, item: DatabaseItem) -> Catalog:
        key = (tenant_id, item.sk, item.schema_version)
        cache = _catalogs()
        if key not in cache:
            cache[key] = Catalog.model_validate(self.store.get_json(tenant_id, item.catalog_key))
        return cache[key]

    def database(self, tenant_id: str, item: DatabaseItem) -> ReadOnlyDatabase:
        if item.kind == "sample":
            return sample_database(self.settings)
        if item.kind in ("sqlite", "duckdb"):
            path = local_copy(self.settings, self.store.blobs, tenant_id, item.sk, item.kind)
            return file_database(item.kind, path)
        source = json.loads(item.source)
        password = self.secrets.password(item.secret_arn) if item.secret_arn else None
        params = PostgresParameters(
            source["host"],
            int(source["port"]),
            source["database"],
            source["user"],
            password,
            source["schema"],
            source["sslmode"],
        )
        from stratus.sql.hosts import check_database_host

        check_database_host(params.host, self.settings.analyst_allowed_db_hosts)
        return postgres_database(tenant_id, item.sk, params, int(self.settings.analyst_statement_timeout_s) + 1)

    def _view(self, item: DatabaseItem) -> DatabaseView:
        return DatabaseView(
            database_id=item.sk,
            name=item.name,
            kind=item.kind,
            dialect=item.dialect,
            created_at=int(item.created_at),
            schema_version=item.schema_version,
            table_count=int(item.table_count),
            tables=[str(t) for t in item.tables or []],
            hidden_columns=[str(c) for c in item.hidden_columns or []],
            source=json.loads(item.source),
            has_secret=item.secret_arn is not None,
        )

    def _detail(self, item: DatabaseItem, catalog: Catalog) -> DatabaseDetail:
        return DatabaseDetail(**self._view(item).model_dump(), catalog=catalog.model_dump(mode="json"))

    # -- sessions ------------------------------------------------------------------------------

    def create_session(self, principal: Principal, request: SessionRequest) -> SessionView:
        database = self.store.get_database(principal.tenant_id, request.database_id)
        item = SessionItem(
            f"{principal.tenant_id}#SESSION",
            new_id("ses"),
            database_id=database.sk,
            title=request.title,
            created_at=int(time.time()),
            created_by=principal.user_id,
            turns=0,
        )
        self.store.put_session(item)
        return self._session_view(item)

    def list_sessions(self, principal: Principal, limit: int, cursor: str | None) -> Page[SessionView]:
        start = decode_cursor(principal.tenant_id, cursor)
        items, last = self.store.list_sessions(principal.tenant_id, limit, start)
        return Page[SessionView](
            items=[self._session_view(i) for i in items], next_cursor=encode_cursor(principal.tenant_id, last)
        )

    def delete_session(self, principal: Principal, session_id: str) -> None:
        session = self.store.get_session(principal.tenant_id, session_id)
        self.store.delete_session(principal.tenant_id, session)

    @staticmethod
    def _session_view(item: SessionItem) -> SessionView:
        return SessionView(
            session_id=item.sk,
            database_id=item.database_id,
            title=item.title,
            created_at=int(item.created_at),
            turns=int(item.turns),
        )

    # -- questions -------------------------------------------------------------------------------

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
        session = self.store.get_session(tenant, session_id)
        item = self.store.get_database(tenant, session.database_id)
        catalog = self.catalog(tenant, item)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        question = request.question
        validated: ValidatedQuery | None = None
        if request.sql is not None:
            validated = self._validate(request.sql, catalog, timings)
        elif question is not None and looks_like_sql(question):
            # "SELECT ..." typed as a question runs as SQL; "Select the five longest tracks" is still a question.
            try:
                validated = self._validate(question, catalog, timings)
            except UnsafeQuery as refused:
                if refused.reason not in _PLAIN_LANGUAGE_REASONS:
                    raise
        if validated is not None:
            own_result = self._execute(tenant, item, validated, timings)
            body = self._answered(None, None, validated, own_result, None, cached=False, repairs=[])
            return self._record(principal, session, body, own_result, timings, started)

        assert question is not None
        screen_question(question, tenant_id=tenant, database_id=item.sk)
        history = self._history(tenant, session)
        cache_key = self._cache_key(catalog, question, history)
        if request.use_cache and self.settings.analyst_cache_ttl_s > 0:
            hit = self.store.cached(tenant, item.sk, cache_key)
            if hit is not None:
                cached_result = ResultSet.model_validate(self.store.get_json(tenant, hit["result_key"]))
                body = {**hit["body"], "question": question, "cached": True}
                return self._record(principal, session, body, cached_result, {"cache_ms": 0.0}, started)
        body, result = self._generate_and_run(tenant, item, catalog, question, history, timings)
        view = self._record(principal, session, body, result, timings, started)
        if result is not None and self.settings.analyst_cache_ttl_s > 0:
            stored = {key: value for key, value in body.items() if key not in ("question", "cached")}
            self.store.cache(
                tenant,
                item.sk,
                cache_key,
                {"body": stored, "result_key": self._result_key(session.sk, view.query_id)},
                self.settings.analyst_cache_ttl_s,
            )
        return view

    def _generate_and_run(
        self,
        tenant: str,
        item: DatabaseItem,
        catalog: Catalog,
        question: str,
        history: list[PriorTurn],
        timings: dict[str, float],
    ) -> tuple[dict[str, Any], ResultSet | None]:
        generator = self.generator
        failures: list[Attempt] = []
        attempts = 0
        budget = 1 + (0 if generator.offline else self.settings.analyst_max_repairs)
        generation: Generation | None = None
        while attempts < budget:
            attempts += 1
            began = time.perf_counter()
            generation = generator.generate(question, catalog, history, failures)
            timings["model_ms"] = timings.get("model_ms", 0.0) + (time.perf_counter() - began) * 1000
            if generation.kind != "sql" or generation.sql is None:
                break
            try:
                validated = self._validate(generation.sql, catalog, timings)
                result = self._execute(tenant, item, validated, timings)
            except (UnsafeQuery, QueryFailed) as error:
                failures.append(Attempt(sql=generation.sql, error=error.detail))
                if generator.offline:
                    generation = generator.generate(question, catalog, history, failures)
                    break
                continue
            body = self._answered(question, generation, validated, result, attempts, cached=False, repairs=failures)
            return body, result
        assert generation is not None
        if generation.kind == "sql":
            raise RepairsExhausted(
                f"the model's SQL was refused or failed {len(failures)} time(s); last: {failures[-1].error}",
                attempts=[{"sql": f.sql, "error": f.error} for f in failures],
            )
        status = "clarification" if generation.kind == "clarification" else "beyond"
        answer = generation.message
        if generation.kind == "clarification":
            answer = generation.message + " " + " / ".join(generation.interpretations)
        body = {
            "status": status,
            "question": question,
            "resolved_question": generation.resolved_question,
            "sql": None,
            "validation": None,
            "answer": answer,
            "interpretations": generation.interpretations,
            "generator": self._generator_view(generation, attempts),
            "repairs": [{"sql": f.sql, "error": f.error} for f in failures],
            "intent": None,
            "cached": False,
        }
        return body, None

    def _validate(self, sql: str, catalog: Catalog, timings: dict[str, float]) -> ValidatedQuery:
        began = time.perf_counter()
        try:
            return validate(sql, catalog, max_rows=self.settings.analyst_max_rows)
        finally:
            timings["validate_ms"] = timings.get("validate_ms", 0.0) + (time.perf_counter() - began) * 1000

    def _execute(
        self, tenant: str, item: DatabaseItem, validated: ValidatedQuery, timings: dict[str, float]
    ) -> ResultSet:
        began = time.perf_counter()
        try:
            return self.database(tenant, item).execute(validated.sql, self.limits)
        finally:
            timings["execute_ms"] = timings.get("execute_ms", 0.0) + (time.perf_counter() - began) * 1000

    def _answered(
        self,
        question: str | None,
        generation: Generation | None,
        validated: ValidatedQuery,
        result: ResultSet,
        attempts: int | None,
        *,
        cached: bool,
        repairs: list[Attempt],
    ) -> dict[str, Any]:
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
            "generator": self._generator_view(generation, attempts or 1) if generation else None,
            "repairs": [{"sql": f.sql, "error": f.error} for f in repairs],
            "intent": generation.intent if generation else None,
            "cached": cached,
            "truncated": reached_cap,
        }

    @staticmethod
    def _generator_view(generation: Generation, attempts: int) -> dict[str, Any]:
        return Generator(
            provider=generation.provider, model=generation.model, offline=generation.offline, attempts=attempts
        ).model_dump()

    def _record(
        self,
        principal: Principal,
        session: SessionItem,
        body: dict[str, Any],
        result: ResultSet | None,
        timings: dict[str, float],
        started: float,
    ) -> QueryView:
        tenant = principal.tenant_id
        query_id = new_id("qry")
        result_key = None
        if result is not None:
            result_key = self._result_key(session.sk, query_id)
            self.store.put_json(tenant, result_key, result.model_dump(mode="json"))
        preview = result.rows[: self.settings.analyst_preview_rows] if result else []
        stored = {
            **body,
            "query_id": query_id,
            "session_id": session.sk,
            "columns": result.columns if result else [],
            "preview": preview,
            "row_count": result.row_count if result else 0,
            "result_key": result_key,
            "created_at": int(time.time()),
        }
        try:
            turn = self.store.add_turn(tenant, session, query_id, stored)
        except StratusError:
            if result_key:
                self.store.blobs.delete(tenant, result_key)
            raise
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        return self._query_view({**stored, "turn": turn}, result, timings)

    @staticmethod
    def _result_key(session_id: str, query_id: str) -> str:
        return f"analyst/sessions/{session_id}/results/{query_id}.json"

    @staticmethod
    def _query_view(body: dict[str, Any], result: ResultSet | None, timings: dict[str, float] | None) -> QueryView:
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
            generator=Generator.model_validate(body["generator"]) if body.get("generator") else None,
            cached=bool(body.get("cached", False)),
            repairs=body.get("repairs", []),
            elapsed_ms={k: round(v, 3) for k, v in (timings or {}).items()},
            created_at=int(body.get("created_at", 0)),
        )

    def _history(self, tenant: str, session: SessionItem) -> list[PriorTurn]:
        recent = list(self.store.turns(tenant, session.sk, newest_first=True, limit=10))
        return [
            PriorTurn(
                question=turn.get("question") or turn.get("sql") or "",
                resolved_question=turn.get("resolved_question") or turn.get("question") or "",
                sql=turn.get("sql"),
                intent=turn.get("intent"),
            )
            for turn in reversed(recent)
            if turn.get("status") == "answered"
        ]

    @staticmethod
    def _cache_key(catalog: Catalog, question: str, history: list[PriorTurn]) -> str:
        """Per (schema version, normalised question); a follow-up also by the SQL it follows."""
        context = normalise_question(question)
        if history and is_follow_up(question):
            context += "\n" + (history[-1].sql or "")
        digest = hashlib.sha256(context.encode()).hexdigest()[:32]
        return f"{catalog.version}#{digest}"

    def history(self, principal: Principal, session_id: str, limit: int, cursor: str | None) -> HistoryView:
        tenant = principal.tenant_id
        session = self.store.get_session(tenant, session_id)
        start = decode_cursor(tenant, cursor)
        after = int(start["turn"]) if start else 0
        turns = list(self.store.turns(tenant, session.sk, limit=limit + 1, after_turn=after))
        more = len(turns) > limit
        turns = turns[:limit]
        next_cursor = encode_cursor(tenant, {"turn": turns[-1]["turn"]}) if more and turns else None
        return HistoryView(
            session_id=session.sk,
            database_id=session.database_id,
            items=[self._query_view(t, None, None) for t in turns],
            next_cursor=next_cursor,
        )

    # -- charts and explanations ----------------------------------------------------------------

    def visualize(self, principal: Principal, session_id: str, request: VisualizeRequest) -> ChartView:
        tenant = principal.tenant_id
        session = self.store.get_session(tenant, session_id)
        if request.question is not None:
            view = self.ask(principal, session_id, QueryRequest(question=request.question))
            if view.status != "answered":
                raise ValidationFailed(f"no chart: {view.answer}", status_of_question=view.status)
            query_id = view.query_id
        else:
            assert request.query_id is not None
            query_id = request.query_id
        turn = self.store.get_turn(tenant, query_id)
        if turn.get("session_id") != session.sk:
            from stratus.errors import NotFound

            raise NotFound(f"query {query_id} not found in session {session_id}")
        if not turn.get("result_key"):
            raise ValidationFailed(f"query {query_id} has no result to chart ({turn.get('status')})")
        result = ResultSet.model_validate(self.store.get_json(tenant, turn["result_key"]))
        spec = request.chart or ChartSpec.model_validate(
            turn.get("chart") or suggest_chart(result.columns, result.rows).model_dump()
        )
        if not spec.title:
            spec = spec.model_copy(update={"title": turn.get("question") or turn.get("sql") or ""})
        try:
            figure = plotly_figure(spec, result.columns, result.rows)
            png = render_png(spec, result.columns, result.rows)
        except ValueError as error:
            raise ValidationFailed(str(error), field="chart") from error
        chart_id = new_id("cht")
        key = f"analyst/sessions/{session.sk}/charts/{chart_id}.png"
        self.store.blobs.put(tenant, key, png, "image/png")
        ttl = self.settings.analyst_download_url_ttl_s
        return ChartView(
            chart_id=chart_id,
            query_id=query_id,
            spec=spec,
            plotly=figure,
            png_url=self.store.blobs.presigned_download(tenant, key, expires_in_s=ttl),
            png_key=self.store.blobs.key_for(tenant, key),
            expires_in_s=ttl,
        )

    def explain(self, principal: Principal, query_id: str) -> ExplainView:
        tenant = principal.tenant_id
        turn = self.store.get_turn(tenant, query_id)
        if not turn.get("sql"):
            raise ValidationFailed(f"query {query_id} has no SQL to explain ({turn.get('status')})")
        session = self.store.get_session(tenant, turn["session_id"])
        item = self.store.get_database(tenant, session.database_id)
        catalog = self.catalog(tenant, item)
        try:
            validated = validate(turn["sql"], catalog, max_rows=self.settings.analyst_max_rows)
        except UnsafeQuery as error:
            raise Conflict(
                f"the database's schema changed and the query no longer validates: {error.detail}"
            ) from error
        plan = self.database(tenant, item).explain(validated.sql, self.limits)
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


@per_container
def get_analyst_service() -> AnalystService:
    from analyst.settings import get_analyst_settings

    settings = get_analyst_settings()
    return AnalystService(settings, AnalystStore(settings))
