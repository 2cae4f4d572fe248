"""FastAPI app factory, problem+json errors, request ids, pagination, auth and the Mangum handler."""

from stratus.web.app import HealthCheck, create_app, make_handler
from stratus.web.auth import AdminPrincipal, CurrentPrincipal, admin_principal, current_principal
from stratus.web.pagination import Page, decode_cursor, encode_cursor

__all__ = [
    "AdminPrincipal",
    "CurrentPrincipal",
    "HealthCheck",
    "Page",
    "admin_principal",
    "create_app",
    "current_principal",
    "decode_cursor",
    "encode_cursor",
    "make_handler",
]
