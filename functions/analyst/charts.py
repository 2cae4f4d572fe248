"""Charts of a recorded result (or of a question asked for the purpose): a Plotly figure and a PNG in S3."""

from __future__ import annotations

from analyst.domain import chart_key, new_id
from analyst.figures import plotly_figure, render_png, suggest_chart
from analyst.queries import QueryService
from analyst.repository import AnalystRepository
from analyst.schemas import ChartSpec, ChartView, QueryRequest, VisualizeRequest
from analyst.settings import AnalystSettings
from stratus.errors import ValidationFailed
from stratus.identity import Principal


class ChartService:
    def __init__(self, settings: AnalystSettings, repository: AnalystRepository, queries: QueryService) -> None:
        self.settings = settings
        self.repository = repository
        self.queries = queries

    def visualize(self, principal: Principal, session_id: str, request: VisualizeRequest) -> ChartView:
        tenant = principal.tenant_id
        session = self.repository.get_session(tenant, session_id)
        query_id = request.query_id
        if request.question is not None:
            view = self.queries.ask(principal, session_id, QueryRequest(question=request.question))
            if view.status != "answered":
                raise ValidationFailed(f"no chart: {view.answer}", status_of_question=view.status)
            query_id = view.query_id
        assert query_id is not None
        turn, result = self.queries.result(principal, session.sk, query_id)
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
        key = chart_key(session.sk, chart_id)
        blobs = self.repository.blobs
        blobs.put(tenant, key, png, "image/png")
        ttl = self.settings.analyst_download_url_ttl_s
        return ChartView(
            chart_id=chart_id,
            query_id=query_id,
            spec=spec,
            plotly=figure,
            png_url=blobs.presigned_download(tenant, key, expires_in_s=ttl),
            png_key=blobs.key_for(tenant, key),
            expires_in_s=ttl,
        )
