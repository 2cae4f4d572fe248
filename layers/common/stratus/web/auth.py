"""The auth dependency: every route either depends on ``CurrentPrincipal`` or is declared anonymous."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from stratus.identity.principal import Principal, principal_from_authorizer_context


def _authorizer_context(request: Request) -> dict[str, Any] | None:
    event = request.scope.get("aws.event")
    if not isinstance(event, dict):
        return None
    authorizer = event.get("requestContext", {}).get("authorizer")
    return authorizer if isinstance(authorizer, dict) else None


async def current_principal(request: Request) -> Principal:
    """Behind API Gateway the authorizer already checked the caller; locally the headers are checked here."""
    context = _authorizer_context(request)
    if context is not None:
        principal = principal_from_authorizer_context(context)
        if principal is not None:
            request.state.principal = principal
            return principal
    from stratus.identity.service import authenticate_headers

    principal = await run_in_threadpool(authenticate_headers, dict(request.headers))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
