"""template.yaml passes cfn-lint and `sam validate --lint`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from stratus.local.template import REPO_ROOT, TEMPLATE_PATH

SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"


def test_cfn_lint_reports_nothing() -> None:
    from cfnlint.api import lint_file  # type: ignore[import-untyped]

    # When
    matches = lint_file(Path(TEMPLATE_PATH))

    # Then
    findings = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches]
    assert findings == []


def test_sam_validate_lint_is_clean() -> None:
    # Given
    if not SAM.exists():
        pytest.fail(f"{SAM.relative_to(REPO_ROOT)} is missing: run `make sam-venv` (aws-sam-cli lives in its own venv)")
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0"}

    # When
    completed = subprocess.run(
        [str(SAM), "validate", "--lint", "--region", "us-east-1", "--template-file", str(TEMPLATE_PATH)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # Then
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "is a valid SAM Template" in output, output
