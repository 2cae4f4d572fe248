"""Who is calling: a ``Principal`` from an API key, a JWT, or the API Gateway authorizer context."""

from stratus.identity.principal import Principal
from stratus.identity.service import (
    ApiKeyRecord,
    IdentityService,
    authenticate_headers,
    get_identity_service,
    principal_from_authorizer_context,
)

__all__ = [
    "ApiKeyRecord",
    "IdentityService",
    "Principal",
    "authenticate_headers",
    "get_identity_service",
    "principal_from_authorizer_context",
]
