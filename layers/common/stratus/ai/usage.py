"""Usage records: the one place that turns token counts into cost, emits them as EMF metrics and meters them."""

from __future__ import annotations

from stratus.ai.prices import cost_usd, price_of
from stratus.ai.types import Provider, Purpose, Usage
from stratus.config import ObservabilitySettings
from stratus.observability import MetricUnit, logger, metrics

__all__ = ["make_usage", "record_embedding_usage", "record_usage"]

_unpriced_models: set[str] = set()


def make_usage(
    *, provider: Provider, model: str, input_tokens: int, output_tokens: int, latency_ms: float
) -> Usage:
    """A `Usage` priced from the price table; offline is whatever the offline provider produced."""
    if provider != "offline" and price_of(model) is None and model not in _unpriced_models:
        _unpriced_models.add(model)
        logger.warning("model has no price in stratus.ai.prices; its cost is recorded as 0", extra={"model": model})
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=cost_usd(model, input_tokens, output_tokens),
        model=model,
        provider=provider,
        offline=provider == "offline",
        latency_ms=latency_ms,
    )


def _ensure_namespace() -> None:
    # Powertools reads POWERTOOLS_METRICS_NAMESPACE; the settings default applies when it is unset.
    if not metrics.namespace:
        metrics.namespace = ObservabilitySettings().metrics_namespace


def record_usage(usage: Usage, purpose: Purpose) -> None:
    """Emit tokens, cost and latency of one model call, and record it in the caller's usage (when metered)."""
    _ensure_namespace()
    metrics.add_metric(name="ModelInputTokens", unit=MetricUnit.Count, value=usage.input_tokens)
    metrics.add_metric(name="ModelOutputTokens", unit=MetricUnit.Count, value=usage.output_tokens)
    metrics.add_metric(name="ModelCostUSD", unit=MetricUnit.NoUnit, value=usage.cost_usd)
    metrics.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=usage.latency_ms)
    logger.info("model usage", extra={"purpose": purpose, **usage.model_dump()})
    # Imported here: the ledger is not needed until a model has answered (cold start of every API function).
    from stratus.metering.scope import record_model_usage

    record_model_usage(
        model=usage.model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd,
        offline=usage.offline,
    )


def record_embedding_usage(*, provider: str, model: str, texts: int, latency_ms: float) -> None:
    _ensure_namespace()
    metrics.add_metric(name="EmbeddedTexts", unit=MetricUnit.Count, value=texts)
    metrics.add_metric(name="EmbeddingLatency", unit=MetricUnit.Milliseconds, value=latency_ms)
    logger.debug("embedding usage", extra={"provider": provider, "model": model, "texts": texts})
