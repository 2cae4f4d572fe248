"""Fuzzing every service's OpenAPI on the embedded stack, as a real tenant: no 5xx, every 4xx is problem+json.

The services come from template.yaml and their OpenAPI from docs/openapi/<service>.json, which
tests/contract/test_openapi.py keeps equal to what each app serves; so a new service or route is fuzzed the day it
lands (a service without a spec fails here and there, until `make openapi` writes it). Requests go through the dev
gateway (template routing, as API Gateway does), in-process, authenticated with a real API key; the anonymous,
signed webhook of codereview is fuzzed too (an unsigned or forged delivery is 4xx).
Bounded: 20 examples per operation in the fuzzing phase, plus the schema's examples and its coverage cases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import Case

from stratus.local.embedded import EmbeddedAws

from .conftest import Tenant, issue_tenant
from .template_routes import http_routes, services

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "docs" / "openapi"
PROBLEM_FIELDS = ("type", "title", "status", "detail")
# Anonymous webhooks verify a signature the fuzzer cannot forge: every fuzzed delivery must be refused (4xx).
SIGNED_WEBHOOKS = {
    (route.method, route.path) for route in http_routes() if route.authorizer is None and "/webhooks/" in route.path
}
FUZZ_CONFIG = {
    "generation": {"max-examples": 20, "deterministic": True},
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
}


@pytest.fixture(scope="module")
def fuzz_tenant(stack: EmbeddedAws) -> Tenant:
    return issue_tenant("fuzzing", "fuzzer")


def spec_path(service: str) -> Path:
    return SPECS / f"{service}.json"


def service_schemas() -> dict[str, Any]:
    """Loaded at collection, as schemathesis parametrizes by operation (its lazy loader fails on pytest 9)."""
    config = schemathesis.Config.from_dict(FUZZ_CONFIG)
    return {
        service: schemathesis.openapi.from_dict(json.loads(spec_path(service).read_text()), config=config)
        for service in services()
        if spec_path(service).is_file()
    }


def test_every_service_in_the_template_has_a_spec_to_fuzz() -> None:
    missing = [str(spec_path(service).relative_to(REPO)) for service in services() if not spec_path(service).is_file()]
    assert not missing, f"not fuzzed, no OpenAPI spec: {missing}; run `make openapi`"


class LambdaFaults:
    """An ASGI wrapper that answers as Lambda does when a handler raises (a 500), keeping the error for the report.

    In-process the test client would re-raise the app's exception; the check wants the status a caller sees.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_error: str | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        self.last_error = None
        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:  # a handler that raises is a 500 on AWS; record it, answer it
            if scope["type"] != "http":
                raise
            self.last_error = f"{type(error).__name__}: {error}"
            if not started:
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})


@pytest.fixture(scope="module")
def lambda_gateway(gateway: Any) -> LambdaFaults:
    return LambdaFaults(gateway)


def describe(case: Case[Any], status: int, content_type: str, text: str, error: str | None) -> str:
    raised = f"\nthe handler raised {error}" if error else ""
    return (
        f"{case.method} {case.formatted_path} query={case.query!r} headers={case.headers!r} body={case.body!r}\n"
        f"-> {status} {content_type}\n{text[:1500]}{raised}"
    )


@schemathesis.pytest.parametrize(**service_schemas())
def test_no_route_answers_5xx_and_every_4xx_is_problem_json(
    case: Case[Any], lambda_gateway: LambdaFaults, fuzz_tenant: Tenant
) -> None:
    response = case.call(app=lambda_gateway, headers=fuzz_tenant.headers)
    content_type = response.headers.get("content-type", [""])[0] if response.headers else ""
    text = response.content.decode("utf-8", "replace")
    report = describe(case, response.status_code, content_type, text, lambda_gateway.last_error)
    assert response.status_code < 500, report
    if (case.method.upper(), case.path) in SIGNED_WEBHOOKS:
        assert 400 <= response.status_code < 500, "an unsigned or forged delivery was accepted: " + report
    if 400 <= response.status_code < 500:
        assert content_type.startswith("application/problem+json"), report
        body = json.loads(text)
        missing = [field for field in PROBLEM_FIELDS if field not in body]
        assert not missing and body["status"] == response.status_code, report
