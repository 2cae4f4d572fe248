"""The auth dependency: every route either depends on ``CurrentPrincipal`` or is declared anonymous."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from stratus.errors import Forbidden
from stratus.identity.principal import Principal, principal_from_authorizer_context
from stratus.identity.roles import READ_METHODS, is_admin, may_write

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def _authorizer_context(request: Request) -> dict[str, Any] | None:
    event = request.scope.get("aws.event")
    if not isinstance(event, dict):
        return None
    authorizer = event.get("requestContext", {}).get("authorizer")
    return authorizer if isinstance(authorizer, dict) else None


async def _authenticated(request: Request) -> Principal:
    context = _authorizer_context(request)
    if context is not None:
        principal = principal_from_authorizer_context(context)
        if principal is not None:
            return principal
    from stratus.identity.service import authenticate_headers

    return await run_in_threadpool(authenticate_headers, dict(request.headers))


async def current_principal(request: Request) -> Principal:
    """Behind API Gateway the authorizer already checked the caller; locally the headers are checked here.

    A reader may only read: any other method is refused here, for every route of every service.
    """
    principal = await _authenticated(request)
    request.state.principal = principal
    if request.method not in READ_METHODS and not may_write(principal.roles):
        raise Forbidden("this key may only read (role: reader)", required_role="member")
    _meter_request(request, principal)
    return principal


def _meter_request(request: Request, principal: Principal) -> None:
    """Model calls of this request (sync routes in the threadpool and streamed responses too) are metered."""
    from stratus.metering.scope import Caller, enter_scope

    # The request id may come from the client: a unique suffix keeps a repeated X-Request-Id from deduplicating
    # (and so hiding) real calls; HTTP requests are never redelivered, so nothing needs to repeat.
    request_id = _UNSAFE.sub("-", str(getattr(request.state, "request_id", "") or "request"))[:128]
    service = str(getattr(getattr(request.scope.get("app"), "state", None), "service", None) or "api")
    origin = f"{request_id}.{uuid.uuid4().hex[:12]}"
    enter_scope(Caller(principal.tenant_id, service, origin, user_id=principal.user_id, key_id=principal.key_id))


async def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """Management routes: registrations and secrets, rules, database connections, agent registration."""
    if not is_admin(principal.roles):
        raise Forbidden("this route needs the admin role", required_role="admin")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
