"""The checked-in OpenAPI specs (docs/openapi/<service>.json) match what the apps serve today."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "export_openapi.py"


def _export(*args: str) -> subprocess.CompletedProcess[str]:
    """The exporter in a fresh interpreter: it sets the functions' environment, which must not leak into pytest."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["PYTHONPATH"] = os.pathsep.join(str(REPO / part) for part in ("layers/common", "functions", "."))
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_every_service_has_a_checked_in_spec_that_matches_its_app() -> None:
    completed = _export("--check")
    assert completed.returncode == 0, completed.stderr + completed.stdout


def test_a_missing_spec_fails_and_says_how_to_regenerate(tmp_path: Path) -> None:
    # Given an empty spec directory
    # When the specs are checked against it
    completed = _export("--check", "--out", str(tmp_path))

    # Then every service is reported missing and the fix is named
    assert completed.returncode == 1
    assert "docqa.json: missing" in completed.stderr
    assert "run `make openapi`" in completed.stderr


def test_a_stale_spec_and_a_spec_of_a_removed_service_are_reported(tmp_path: Path) -> None:
    # Given freshly exported specs, one then edited by hand and one for a service that no longer exists
    assert _export("--out", str(tmp_path)).returncode == 0
    (tmp_path / "realtime.json").write_text('{"openapi": "3.1.0"}\n')
    (tmp_path / "retired.json").write_text("{}\n")

    # When they are checked
    completed = _export("--check", "--out", str(tmp_path))

    # Then both are named, and nothing else
    assert completed.returncode == 1
    problems = [line for line in completed.stderr.splitlines() if line.startswith(str(tmp_path))]
    assert problems == [
        f"{tmp_path / 'realtime.json'}: stale (the app's OpenAPI changed)",
        f"{tmp_path / 'retired.json'}: no such service in template.yaml",
    ]
