"""The analyst's wiring: the API imports no SQL, driver, chart or model code at cold start, and builds each use
case once per container."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ["sqlglot", "psycopg", "duckdb", "matplotlib", "plotly", "pynamodb", "langchain_core", "sqlalchemy"]


def test_importing_the_analyst_api_loads_no_sql_driver_chart_or_model_code() -> None:
    # Given a fresh interpreter with only the function's and the layer's code on the path
    probe = f"import sys, json\nimport analyst.app\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT / "functions")]),
        "AWS_REGION": "us-east-1",
    }
    # When the API module is imported
    output = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    # Then none of the heavy modules came along
    assert json.loads(output.stdout.strip().splitlines()[-1]) == []


def test_each_use_case_is_built_once_per_container_and_afresh_after_a_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    from analyst import wiring
    from stratus.cache import reset_containers

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("ANALYST_TABLE", "analyst-table")
    monkeypatch.setenv("ANALYST_BUCKET", "analyst-bucket")
    monkeypatch.setenv("MODEL_PROVIDER", "offline")
    reset_containers()
    try:
        sessions = wiring.session_service()
        assert wiring.session_service() is sessions
        assert wiring.chart_service().queries is wiring.query_service()
        assert wiring.query_service().generator.offline is True
        reset_containers()
        assert wiring.session_service() is not sessions
    finally:
        reset_containers()
