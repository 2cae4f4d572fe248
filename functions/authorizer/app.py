"""Lambda authorizer for the HTTP API (payload 2.0, simple responses) and the WebSocket API ($connect).

HTTP API: a caller it cannot authenticate is passed through *without* a principal, so the function
itself answers 401 with an RFC 9457 body (API Gateway's own 401/403 bodies are not problem+json).
Functions never trust a request without a principal. WebSocket: an unauthenticated connect is
refused with 401 (raising "Unauthorized" is API Gateway's contract for that).
"""

from __future__ import annotations

from typing import Any

from stratus.errors import StratusError
from stratus.identity import Principal, authenticate_headers
from stratus.observability import instrument_handler, logger


def _authenticate(event: dict[str, Any]) -> Principal | None:
    headers = {k: v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}
    query = {k: v for k, v in (event.get("queryStringParameters") or {}).items() if isinstance(v, str)}
    try:
        return authenticate_headers(headers, query)
    except StratusError as exc:
        logger.info("authorizer refused credentials", extra={"reason": exc.detail})
        return None


def _websocket_policy(principal: Principal, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": f"{principal.tenant_id}/{principal.user_id}",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn}],
        },
        "context": principal.as_authorizer_context(),
    }


@instrument_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    principal = _authenticate(event)
    if "methodArn" in event:
        if principal is None:
            raise PermissionError("Unauthorized")
        return _websocket_policy(principal, event["methodArn"])
    if principal is None:
        return {"isAuthorized": True, "context": {"authenticated": "false"}}
    return {"isAuthorized": True, "context": {**principal.as_authorizer_context(), "authenticated": "true"}}
