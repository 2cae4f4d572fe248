"""The one ruff runner: typed diagnostics against the caller's names, and a note whenever ruff did not run."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from stratus import checks
from stratus.cache import reset_containers
from stratus.checks import ruff as ruff_module


@pytest.fixture(autouse=True)
def fresh_container() -> Iterator[None]:
    reset_containers()
    yield
    reset_containers()


def test_diagnostics_name_the_files_as_the_caller_did_even_nested_or_escaping_paths() -> None:
    # Given two sources, one in a folder and one whose name tries to leave the working directory
    files = {"pkg/mod.py": "import os\n", "../evil.py": "print(undefined_name)\n"}

    # When ruff checks them for pyflakes rules
    report = checks.run_ruff(files, select=("F",), timeout_s=30)

    # Then every diagnostic comes back typed, against the name it was given
    assert report.ran and report.note is None
    found = sorted((d.path, d.line, d.code) for d in report.diagnostics)
    assert found == [("../evil.py", 1, "F821"), ("pkg/mod.py", 1, "F401")]
    assert all(d.column >= 1 and d.message for d in report.diagnostics)


def test_only_the_selected_rules_are_reported_and_ignored_ones_are_dropped() -> None:
    code = "import os\nassert os\nexec('1')\n"

    report = checks.run_ruff({"a.py": code}, select=("S",), ignore=("S101",), timeout_s=30)

    assert [d.code for d in report.diagnostics] == ["S102"]


def test_a_name_without_a_python_suffix_is_still_checked() -> None:
    report = checks.run_ruff({"snippet": "x = y\n"}, select=("F",), timeout_s=30)

    assert [(d.path, d.code) for d in report.diagnostics] == [("snippet", "F821")]


def test_no_files_is_a_clean_run_without_starting_ruff() -> None:
    assert checks.run_ruff({}, select=("F",), timeout_s=1) == checks.RuffReport()


def test_a_missing_binary_is_reported_as_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ruff_module, "find_ruff", lambda: None)

    report = checks.run_ruff({"a.py": "x = 1\n"}, select=("F",), timeout_s=5)

    assert (report.ran, report.problem, report.note) == (False, "not-installed", "ruff is not installed")


def test_a_run_past_its_timeout_is_reported_as_timed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def too_slow(*args: Any, **kwargs: Any) -> Any:
        raise subprocess.TimeoutExpired(cmd="ruff", timeout=kwargs["timeout"])

    monkeypatch.setattr("stratus.checks.ruff.subprocess.run", too_slow)

    report = checks.run_ruff({"a.py": "x = 1\n"}, select=("F",), timeout_s=2)

    assert (report.problem, report.note) == ("timed-out", "ruff did not finish within 2 s")


def test_a_failing_ruff_is_reported_with_its_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 2, stdout="", stderr="error: unknown rule selector")

    monkeypatch.setattr("stratus.checks.ruff.subprocess.run", broken)

    report = checks.run_ruff({"a.py": "x = 1\n"}, select=("F",), timeout_s=5)

    assert report.problem == "failed"
    assert report.note == "ruff failed (exit 2): error: unknown rule selector"


def test_the_binary_found_is_executable_and_reports_its_version() -> None:
    binary = checks.find_ruff()

    assert binary is not None
    assert (checks.ruff_version() or "").startswith("ruff ")


def test_a_binary_without_the_execute_bit_is_not_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    # Given a wheel whose binary lost its execute bit and nothing on PATH
    stale = tmp_path / "ruff"
    stale.write_text("#!/bin/sh\n")
    stale.chmod(0o644)
    monkeypatch.setattr("ruff.find_ruff_bin", lambda: str(stale))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    # Then no binary is found, rather than one that cannot run
    assert checks.find_ruff() is None
