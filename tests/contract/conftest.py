"""Fixtures of the contract tests."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from stratus.local.embedded import EmbeddedAws
from stratus.local.template import Template

from .support import HandlerProbe, probe_handler


@pytest.fixture(scope="session")
def template() -> Template:
    return Template.load()


@pytest.fixture(scope="session")
def handler_probes(template: Template) -> dict[str, HandlerProbe]:
    """Every function's Handler imported once in its own fresh interpreter (in parallel)."""
    logical_ids = list(template.functions())
    with ThreadPoolExecutor(max_workers=4) as pool:
        probes = pool.map(lambda logical_id: probe_handler(template, logical_id), logical_ids)
        return dict(zip(logical_ids, probes, strict=True))


@pytest.fixture(scope="module")
def embedded_aws() -> Iterator[EmbeddedAws]:
    """One stack per module: starting one costs seconds; each test creates the state it needs."""
    with EmbeddedAws() as aws:
        yield aws
