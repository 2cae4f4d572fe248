"""Every function of template.yaml flushes its metrics as CloudWatch EMF when an invocation ends.

A handler wrapped by ``stratus.observability.instrument_handler`` (HTTP ones through ``make_handler``)
prints the buffered metrics as one EMF document per invocation. One that is not wrapped leaves them in
the buffer of a warm container, and the model tokens and cost recorded during a call never reach
CloudWatch. Each function runs one of its sample events through the real handler, as
``test_sample_events`` does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus.local.embedded import EmbeddedAws
from stratus.local.template import Template
from stratus.observability import MetricUnit, metrics

from .sample_events import SampleEvent, event_kind, function_for, sample_events
from .support import connect_first, hub_socket, invoke, issue_dev_key

TEMPLATE = Template.load()
PROBE = "ContractProbeCount"


def _sample_per_function() -> dict[str, SampleEvent]:
    chosen: dict[str, SampleEvent] = {}
    for sample in sample_events():
        try:
            chosen.setdefault(function_for(TEMPLATE, sample), sample)
        except LookupError:
            continue  # test_sample_events names events that reach no function
    return chosen


SAMPLE_OF = _sample_per_function()


def emf_documents(stdout: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines a handler printed (Powertools prints one JSON object per flush)."""
    documents = []
    for line in stdout.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "CloudWatchMetrics" in (document.get("_aws") or {}):
            documents.append(document)
    return documents


def _run(aws: EmbeddedAws, logical_id: str, sample: SampleEvent) -> None:
    event = sample.load(api_key=issue_dev_key() if sample.needs_api_key else None)
    if event_kind(event) != "websocket":
        invoke(aws, logical_id, event)
        return
    context = event["requestContext"]
    if context["eventType"] != "CONNECT":
        connect_first(event)
    with hub_socket(context["connectionId"]):
        invoke(aws, logical_id, event)


@pytest.mark.parametrize("logical_id", sorted(TEMPLATE.functions()))
def test_an_invocation_flushes_its_metrics_as_emf(
    embedded_aws: EmbeddedAws, logical_id: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given metrics on, as deployed, and a metric waiting in the container's buffer (a model call's tokens, say)
    sample = SAMPLE_OF.get(logical_id)
    assert sample is not None, f"{logical_id} has no sample event under events/"
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    # template.yaml sets the namespace in Globals; the process-wide Metrics read it at import, before the stack
    monkeypatch.setattr(metrics, "namespace", "StratusContract")
    metrics.clear_metrics()
    metrics.add_metric(name=PROBE, unit=MetricUnit.Count, value=1)
    capsys.readouterr()

    # When the handler runs one of its sample events
    try:
        _run(embedded_aws, logical_id, sample)
        printed = emf_documents(capsys.readouterr().out)
    finally:
        metrics.clear_metrics()

    # Then the invocation printed the buffered metric as EMF: nothing stays behind in a warm container
    assert [d for d in printed if PROBE in d], (
        f"{logical_id} ({TEMPLATE.handler(logical_id)}) printed no EMF document: wrap its handler with "
        "stratus.observability.instrument_handler (or build it with stratus.web.make_handler)"
    )


def test_the_check_tells_a_wrapped_handler_from_a_bare_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stratus.local.lambda_dispatch import LocalLambdaContext
    from stratus.observability import instrument_handler

    def bare(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {}

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setattr(metrics, "namespace", "StratusContract")
    printed = {}
    for name, handler in (("bare", bare), ("wrapped", instrument_handler(bare))):
        metrics.clear_metrics()
        metrics.add_metric(name=PROBE, unit=MetricUnit.Count, value=1)
        capsys.readouterr()
        handler({}, LocalLambdaContext())
        printed[name] = len(emf_documents(capsys.readouterr().out))
    metrics.clear_metrics()

    assert printed == {"bare": 0, "wrapped": 1}
