"""Code checks: the one way to run a linter on code (ruff today) from a service or an agent tool.

- `run_ruff(files, select=..., timeout_s=...)` — ruff on a set of sources, as typed `Diagnostic`s;
  a run that could not happen (not installed, timed out, failed) says so in `RuffReport.note`;
- `find_ruff()` / `ruff_version()` — which binary runs (Lambda: the ReviewTools layer's ``/opt/bin/ruff``).
"""

from __future__ import annotations

from stratus.checks.ruff import Diagnostic, RuffProblem, RuffReport, find_ruff, ruff_version, run_ruff

__all__ = ["Diagnostic", "RuffProblem", "RuffReport", "find_ruff", "ruff_version", "run_ruff"]
