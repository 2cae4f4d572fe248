"""codereview HTTP API: the signed GitHub webhook, registrations, reviews, rules and suggestion analytics.

Routes live under ``/codereview``. The webhook is anonymous (GitHub signs it); every other route needs a
principal, and another tenant's pull request, registration or rules are simply not found.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from codereview import api
from codereview.domain import ReviewRules
from codereview.feedback import SuggestionAnalytics
from codereview.registrations import Registration, RegistrationRequest
from codereview.rules import StoredRules
from codereview.store import ReviewDetail, ReviewSummary
from stratus.web import CurrentPrincipal, Page, create_app, make_handler

ReviewState = Literal["queued", "reviewing", "posted", "held", "clean", "failed", "skipped", "closed", "merged"]


def _table_reachable() -> None:
    api.rules_store().get("health", "stratus/health")


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
async def github_webhook(request: Request) -> JSONResponse:
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    answer = await run_in_threadpool(api.webhook_receiver().accept, headers, body)
    return JSONResponse(answer.body, status_code=answer.status_code)


@app.post("/codereview/installations", status_code=201, response_model=Registration, tags=["registrations"])
def register(
    request: Annotated[RegistrationRequest, Body()], principal: CurrentPrincipal, response: Response
) -> Registration:
    """Register a repository webhook or your GitHub App; posting again rotates its secrets."""
    registration, created = api.registrations().register(principal.tenant_id, request)
    if not created:
        response.status_code = 200
    return registration


@app.get("/codereview/installations", response_model=Page[Registration], tags=["registrations"])
def list_registrations(principal: CurrentPrincipal) -> Page[Registration]:
    return Page[Registration](items=api.registrations().list_for(principal.tenant_id))


@app.get("/codereview/installations/{registration_id}", response_model=Registration, tags=["registrations"])
def get_registration(registration_id: str, principal: CurrentPrincipal) -> Registration:
    return api.registrations().get(principal.tenant_id, registration_id)


@app.delete("/codereview/installations/{registration_id}", status_code=204, tags=["registrations"])
def delete_registration(registration_id: str, principal: CurrentPrincipal) -> Response:
    """Forget the registration and its secrets; its webhooks are then ignored."""
    api.registrations().delete(principal.tenant_id, registration_id)
    return Response(status_code=204)


@app.get("/codereview/reviews", response_model=Page[ReviewSummary], tags=["reviews"])
def list_reviews(
    principal: CurrentPrincipal,
    repo: Annotated[str | None, Query(description="owner/name", max_length=201)] = None,
    state: ReviewState | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: str | None = None,
) -> Page[ReviewSummary]:
    items, next_cursor = api.review_store().list_reviews(
        principal.tenant_id, repository=repo, state=state, limit=limit, cursor=cursor
    )
    return Page[ReviewSummary](items=items, next_cursor=next_cursor)


@app.get("/codereview/reviews/{pr_id}", response_model=ReviewDetail, tags=["reviews"])
def get_review(pr_id: int, principal: CurrentPrincipal) -> ReviewDetail:
    """Status, runs with their stages and timings, every finding and the comment ids posted on GitHub."""
    return api.review_store().detail(principal.tenant_id, pr_id)


class ApproveResult(BaseModel):
    status: str
    review_id: int
    comments: int = Field(description="inline comments posted")


@app.post("/codereview/reviews/{pr_id}/approve", response_model=ApproveResult, tags=["reviews"])
def approve_review(pr_id: int, principal: CurrentPrincipal) -> dict[str, Any]:
    """Hold mode: post the drafted review of the latest commit to GitHub."""
    return api.pipeline().approve(principal.tenant_id, pr_id)


@app.post("/codereview/settings/rules", response_model=StoredRules, tags=["settings"])
def put_rules(rules: ReviewRules, principal: CurrentPrincipal) -> StoredRules:
    """Set a repository's rules (replaces them): stages, threshold, ignored globs, instructions, limits, mode."""
    return api.rules_store().put(principal.tenant_id, rules)


@app.get("/codereview/settings/rules", response_model=Page[StoredRules], tags=["settings"])
def get_rules(
    principal: CurrentPrincipal,
    repository: Annotated[str | None, Query(description="owner/name; its rules, or the defaults")] = None,
) -> Page[StoredRules]:
    store = api.rules_store()
    if repository is not None:
        ReviewRules(repository=repository)  # 422 for a malformed name
        return Page[StoredRules](items=[store.get(principal.tenant_id, repository)])
    return Page[StoredRules](items=store.list_for(principal.tenant_id))


@app.get("/codereview/analytics/suggestions", response_model=SuggestionAnalytics, tags=["analytics"])
def suggestion_analytics(
    principal: CurrentPrincipal,
    repo: Annotated[str | None, Query(description="owner/name")] = None,
    since_week: Annotated[str | None, Query(pattern=r"^\d{4}-W\d{2}$", description="e.g. 2026-W21")] = None,
) -> SuggestionAnalytics:
    """Acceptance of posted suggestions by repository, category, severity and week."""
    return api.feedback().analytics(principal.tenant_id, repo, since_week)


handler = make_handler(app)
