"""The sample events under events/ reach a function of the template, and its handler accepts them.

Each event runs through the real handler in-process against the embedded AWS built from template.yaml.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus.local.embedded import EmbeddedAws
from stratus.local.template import Template

from .sample_events import SampleEvent, event_kind, function_for, sample_events
from .support import connect_first, hub_socket, invoke, issue_dev_key, service_of

SAMPLES = sample_events()
AUTHORIZER_SAMPLES = [s for s in SAMPLES if event_kind(s.load()).endswith("-authorizer")]
# A well-formed key that no tenant was ever issued.
UNKNOWN_API_KEY = "stk.dev.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
_CONTEXT_VALUE_TYPES = (str, int, float, bool)


def _ids(samples: list[SampleEvent]) -> list[str]:
    return [s.name for s in samples]


def _assert_authorizer_context(context: dict[str, Any]) -> None:
    wrong = {k: type(v).__name__ for k, v in context.items() if not isinstance(v, _CONTEXT_VALUE_TYPES)}
    assert wrong == {}, "API Gateway accepts only string, number and boolean authorizer context values"


def test_every_function_has_a_sample_event(template: Template) -> None:
    # Given
    services = {service_of(template.handler(f)) for f in template.functions()}

    # When
    reached = {function_for(template, s) for s in SAMPLES if s.service in services}

    # Then
    missing = sorted(
        f"{lid} (events/{service_of(template.handler(lid))}/)" for lid in template.functions() if lid not in reached
    )
    assert missing == [], "functions with no sample event"


@pytest.mark.parametrize("sample", SAMPLES, ids=_ids(SAMPLES))
def test_sample_event_reaches_a_function_of_its_service(template: Template, sample: SampleEvent) -> None:
    logical_id = function_for(template, sample)

    assert service_of(template.handler(logical_id)) == sample.service


@pytest.mark.parametrize("sample", SAMPLES, ids=_ids(SAMPLES))
def test_handler_accepts_sample_event(embedded_aws: EmbeddedAws, sample: SampleEvent) -> None:
    # Given
    logical_id = function_for(embedded_aws.template, sample)
    event = sample.load(api_key=issue_dev_key() if sample.needs_api_key else None)
    kind = event_kind(event)

    # When / Then
    if kind == "websocket":
        context = event["requestContext"]
        if context["eventType"] != "CONNECT":
            connect_first(event)
        with hub_socket(context["connectionId"]) as replies:
            result = invoke(embedded_aws, logical_id, event)
        assert result["statusCode"] == 200, result
        assert [r for r in replies if r.get("type") == "error"] == []
    elif kind in ("http", "function-url"):
        result = invoke(embedded_aws, logical_id, event)
        assert result["statusCode"] < 500, result
        if event["rawPath"].endswith("/health"):
            assert result["statusCode"] == 200, result
            assert json.loads(result["body"])["status"] == "ok", result
    elif kind == "http-authorizer":
        result = invoke(embedded_aws, logical_id, event)
        assert result["isAuthorized"] is True
        assert result["context"]["authenticated"] == "true", result
        assert result["context"]["tenant_id"] == "dev"
        _assert_authorizer_context(result["context"])
    elif kind == "websocket-authorizer":
        result = invoke(embedded_aws, logical_id, event)
        assert result["principalId"], result
        assert result["policyDocument"]["Statement"] == [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
        ]
        assert result["context"]["tenant_id"] == "dev"
        _assert_authorizer_context(result["context"])
    else:
        result = invoke(embedded_aws, logical_id, event)
        if isinstance(result, dict):
            assert result.get("statusCode", 200) < 500, result
            assert result.get("batchItemFailures", []) == [], result


def _without_credentials(event: dict[str, Any], api_key: str | None) -> dict[str, Any]:
    """The event as sent by a caller with no credentials (None) or with ``api_key``."""
    text = json.dumps(event)
    if api_key is not None:
        from .sample_events import API_KEY_PLACEHOLDER

        return dict(json.loads(text.replace(API_KEY_PLACEHOLDER, api_key)))
    stripped = json.loads(text)
    for section in ("headers", "multiValueHeaders"):
        for header in list(stripped.get(section) or {}):
            if header.lower() in ("x-api-key", "authorization"):
                del stripped[section][header]
    for section in ("queryStringParameters", "multiValueQueryStringParameters"):
        for name in ("auth", "api_key", "token"):
            (stripped.get(section) or {}).pop(name, None)
    return dict(stripped)


@pytest.mark.parametrize("api_key", [None, UNKNOWN_API_KEY], ids=["no-credentials", "unknown-key"])
@pytest.mark.parametrize("sample", AUTHORIZER_SAMPLES, ids=_ids(AUTHORIZER_SAMPLES))
def test_authorizer_refuses_callers_it_cannot_identify(
    embedded_aws: EmbeddedAws, sample: SampleEvent, api_key: str | None
) -> None:
    # Given
    logical_id = function_for(embedded_aws.template, sample)
    event = _without_credentials(sample.load(), api_key)

    # When / Then
    if event_kind(event) == "http-authorizer":
        # Passed through without a principal: the function answers 401 problem+json itself.
        assert invoke(embedded_aws, logical_id, event) == {"isAuthorized": True, "context": {"authenticated": "false"}}
    else:
        # API Gateway answers 401 when a WebSocket authorizer fails with exactly "Unauthorized".
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            invoke(embedded_aws, logical_id, event)
