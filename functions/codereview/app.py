"""codereview HTTP API: the signed GitHub webhook, registrations, reviews, rules and suggestion analytics.

Routes live under ``/codereview``. The webhook is anonymous (GitHub signs it); every other route needs a
principal, management routes (registrations, rules) the admin role, and another tenant's pull request,
registration or rules are simply not found.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from codereview import wiring
from codereview.domain import validate_repository
from codereview.schemas import (
    ApproveView,
    RegistrationRequest,
    RegistrationView,
    ReviewDetailView,
    ReviewState,
    ReviewSummaryView,
    RulesRequest,
    RulesView,
    SuggestionAnalyticsView,
)
from codereview.wiring import Feedback, Pipeline, Registrations, Reviews, Rules, Webhooks
from stratus.errors import ValidationFailed
from stratus.web import AdminPrincipal, CurrentPrincipal, Page, create_app, decode_cursor, encode_cursor, make_handler


def _table_reachable() -> None:
    wiring.rules_service().get("health", "stratus/health")


app = create_app(
    "codereview",
    description="GitHub pull-request review agent: signed webhooks, staged review, inline comments, feedback",
    health_checks={"table": _table_reachable},
)


@app.post(
    "/codereview/webhooks/github",
    tags=["webhooks"],
    summary="Anonymous, signed by GitHub: X-Hub-Signature-256 is verified before the body is read",
    responses={200: {"description": "ping or duplicate"}, 202: {"description": "queued or ignored"}},
)
async def github_webhook(request: Request, webhooks: Webhooks) -> JSONResponse:
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    answer = await run_in_threadpool(webhooks.accept, headers, body)
    return JSONResponse(answer.body, status_code=answer.status_code)


@app.post("/codereview/installations", status_code=201, response_model=RegistrationView, tags=["registrations"])
def register(
    request: Annotated[RegistrationRequest, Body()],
    principal: AdminPrincipal,
    registrations: Registrations,
    response: Response,
) -> RegistrationView:
    """Register a repository webhook or your GitHub App; posting again rotates its secrets (admin)."""
    registration, created = registrations.register(principal.tenant_id, request)
    if not created:
        response.status_code = 200
    return registration


@app.get("/codereview/installations", response_model=Page[RegistrationView], tags=["registrations"])
def list_registrations(principal: CurrentPrincipal, registrations: Registrations) -> Page[RegistrationView]:
    return Page[RegistrationView](items=registrations.list_for(principal.tenant_id))


@app.get("/codereview/installations/{registration_id}", response_model=RegistrationView, tags=["registrations"])
def get_registration(
    registration_id: str, principal: CurrentPrincipal, registrations: Registrations
) -> RegistrationView:
    return registrations.get(principal.tenant_id, registration_id)


@app.delete("/codereview/installations/{registration_id}", status_code=204, tags=["registrations"])
def delete_registration(registration_id: str, principal: AdminPrincipal, registrations: Registrations) -> Response:
    """Forget the registration and its secrets; its webhooks are then ignored (admin)."""
    registrations.delete(principal.tenant_id, registration_id)
    return Response(status_code=204)


@app.get("/codereview/reviews", response_model=Page[ReviewSummaryView], tags=["reviews"])
def list_reviews(
    principal: CurrentPrincipal,
    reviews: Reviews,
    repo: Annotated[str | None, Query(description="owner/name", max_length=201)] = None,
    state: ReviewState | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: str | None = None,
) -> Page[ReviewSummaryView]:
    start = decode_cursor(principal.tenant_id, cursor)
    items, position = reviews.page(principal.tenant_id, repository=repo, state=state, limit=limit, start=start)
    return Page[ReviewSummaryView](items=items, next_cursor=encode_cursor(principal.tenant_id, position))


@app.get("/codereview/reviews/{pr_id}", response_model=ReviewDetailView, tags=["reviews"])
def get_review(pr_id: int, principal: CurrentPrincipal, reviews: Reviews) -> ReviewDetailView:
    """Status, runs with their stages and timings, every finding and the comment ids posted on GitHub."""
    return reviews.detail(principal.tenant_id, pr_id)


@app.post("/codereview/reviews/{pr_id}/approve", response_model=ApproveView, tags=["reviews"])
def approve_review(pr_id: int, principal: CurrentPrincipal, pipeline: Pipeline) -> ApproveView:
    """Hold mode: post the drafted review of the latest commit to GitHub."""
    return ApproveView.model_validate(pipeline.approve(principal.tenant_id, pr_id))


@app.post("/codereview/settings/rules", response_model=RulesView, tags=["settings"])
def put_rules(rules: RulesRequest, principal: AdminPrincipal, service: Rules) -> RulesView:
    """Set a repository's rules (replaces them): stages, threshold, ignored globs, instructions, limits, mode.

    Admin only.
    """
    return service.put(principal.tenant_id, rules)


@app.get("/codereview/settings/rules", response_model=Page[RulesView], tags=["settings"])
def get_rules(
    principal: CurrentPrincipal,
    service: Rules,
    repository: Annotated[str | None, Query(description="owner/name; its rules, or the defaults")] = None,
) -> Page[RulesView]:
    if repository is None:
        return Page[RulesView](items=service.list_for(principal.tenant_id))
    try:
        validate_repository(repository)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="repository") from exc
    return Page[RulesView](items=[service.get(principal.tenant_id, repository)])


@app.get("/codereview/analytics/suggestions", response_model=SuggestionAnalyticsView, tags=["analytics"])
def suggestion_analytics(
    principal: CurrentPrincipal,
    feedback: Feedback,
    repo: Annotated[str | None, Query(description="owner/name")] = None,
    since_week: Annotated[str | None, Query(pattern=r"^\d{4}-W\d{2}$", description="e.g. 2026-W21")] = None,
) -> SuggestionAnalyticsView:
    """Acceptance of posted suggestions by repository, category, severity and week."""
    return feedback.analytics(principal.tenant_id, repo, since_week)


handler = make_handler(app)
