"""Who is calling: a ``Principal`` from an API key, a JWT, or the API Gateway authorizer context.

``Principal`` is light; the DynamoDB-backed service (PynamoDB, botocore) loads on first use, so a
function that gets its principal from the authorizer context never pays for it.
"""

from typing import TYPE_CHECKING, Any

from stratus.identity.principal import Principal, principal_from_authorizer_context

if TYPE_CHECKING:
    from stratus.identity.service import (
        ApiKeyRecord,
        IdentityService,
        authenticate_headers,
        get_identity_service,
    )

__all__ = [
    "ApiKeyRecord",
    "IdentityService",
    "Principal",
    "authenticate_headers",
    "get_identity_service",
    "principal_from_authorizer_context",
]

_LAZY = {"ApiKeyRecord", "IdentityService", "authenticate_headers", "get_identity_service"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from stratus.identity import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
