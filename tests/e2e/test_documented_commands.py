"""Every documented shell command runs against `make dev`'s server, so README.md and docs/*.md cannot drift.

A fenced shell block (bash, sh, shell, console) that calls curl carries a marker on the line before its fence:

    <!-- doc-test: run -->                  run it; curl fails on any HTTP status >= 400
    <!-- doc-test: run expect=409 422 -->   run it; these error statuses are what the block shows
    <!-- doc-test: skip: <reason> -->       not run here (GitHub, a tunnel, AWS...), and the reason says why

A page's runnable blocks run in order in one ``bash -euo pipefail`` (variables carry over, as for a reader), in a
scratch directory holding the files the pages name, with API, B (the server's URL), KEY and STRATUS_API_KEY set.
The server's default address (127.0.0.1:8000, localhost:8000) is rewritten to the test server's. Needs curl and jq.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import REPO, DevServer

pytestmark = pytest.mark.e2e

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console", "zsh"}
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
_MARKER = re.compile(r"<!--\s*doc-test:\s*(?P<kind>run|skip)\b:?(?P<args>.*?)-->")
_DEFAULT_ADDRESS = re.compile(r"(?:http://)?(?:127\.0\.0\.1|localhost):8000")
SHARED_DATA = REPO.parent / "shared" / "data"
# Files the pages name, as a reader would have them in the working directory.
PAGE_FILES = {
    "ch04-01-what-is-ownership.md": SHARED_DATA / "documents/markdown-rust-book/ch04-01-what-is-ownership.md",
    "rfc2616.pdf": SHARED_DATA / "documents/pdf/rfc2616.pdf",
}
NOTES_MD = "# Notes\n\nRetry-After tells a client how many seconds to wait before it retries a request after a 503.\n"
CURL_WRAPPER = r"""
curl() {
  local head status
  head=$(mktemp)
  command curl -D "$head" "$@" || { local rc=$?; rm -f "$head"; return "$rc"; }
  status=$(awk '/^HTTP\//{code=$2} END{print code}' "$head")
  rm -f "$head"
  if [[ -n "$status" && "$status" -ge 400 && " $DOC_EXPECT " != *" $status "* ]]; then
    echo "doc-test: HTTP $status from curl $*" >&2
    return 22
  fi
}
"""


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    text: str
    marker: str | None  # "run" or "skip"
    args: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def calls_curl(self) -> bool:
        return self.language in SHELL_LANGUAGES and re.search(r"\bcurl\b", self.text) is not None

    @property
    def runs(self) -> bool:
        return self.language in SHELL_LANGUAGES and self.marker == "run"


def blocks_of(page: Path) -> list[Block]:
    """Every fenced block of a page with the doc-test marker on the nearest non-blank line above it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = len(opening.group("indent"))
        end = index + 1
        while end < len(lines) and not re.match(r"^\s*```\s*$", lines[end]):
            end += 1
        body = "\n".join(line[indent:] if line[:indent].strip() == "" else line for line in lines[index + 1 : end])
        above = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = _MARKER.search(above)
        found.append(
            Block(
                page=page,
                line=index + 1,
                language=opening.group("lang").lower(),
                text=body,
                marker=marker.group("kind") if marker else None,
                args=marker.group("args").strip() if marker else "",
            )
        )
        index = end + 1
    return found


def documented_commands() -> list[Block]:
    return [block for page in PAGES for block in blocks_of(page) if block.calls_curl]


def test_every_documented_curl_command_is_marked_run_or_skip_with_a_reason() -> None:
    problems = []
    for block in documented_commands():
        if block.marker is None:
            problems.append(f"{block.where}: add <!-- doc-test: run --> (or skip: <reason>) above the fence")
        elif block.marker == "skip" and not block.args:
            problems.append(f"{block.where}: a skipped block says why (<!-- doc-test: skip: <reason> -->)")
    assert not problems, "documented commands the test cannot account for:\n" + "\n".join(problems)


def test_the_documented_commands_are_mostly_run_and_each_skip_is_counted() -> None:
    marked = [block for page in PAGES for block in blocks_of(page) if block.marker is not None]
    run = [block for block in marked if block.runs]
    skipped = [f"{block.where}: {block.args}" for block in marked if block.marker == "skip"]
    print(f"{len(run)} documented blocks run, {len(skipped)} not run here:\n" + "\n".join(skipped))
    assert run, "no documented command is marked to run"
    assert len(skipped) <= len(run), f"more documented commands skipped than run: {skipped}"


def _script(blocks: list[Block], server: DevServer) -> str:
    parts = [
        "set -euo pipefail",
        "trap 'echo \"doc-test: failed in the block at $DOC_BLOCK\" >&2' ERR",
        CURL_WRAPPER,
    ]
    for block in blocks:
        expect = block.args.removeprefix("expect=").replace(",", " ") if block.args.startswith("expect=") else ""
        parts.append(f"DOC_BLOCK='{block.where}'; DOC_EXPECT='{expect}'")
        parts.append(_DEFAULT_ADDRESS.sub(server.base_url, block.text))
    return "\n".join(parts) + "\n"


def _scratch_directory(path: Path) -> Path:
    for name, source in PAGE_FILES.items():
        if source.is_file():
            shutil.copy(source, path / name)
    (path / "notes.md").write_text(NOTES_MD)
    return path


def _runnable_pages() -> list[Path]:
    return [page for page in PAGES if any(block.runs for block in blocks_of(page))]


@pytest.mark.parametrize("page", _runnable_pages(), ids=lambda page: str(page.relative_to(REPO)))
def test_every_runnable_documented_command_succeeds_against_the_dev_server(
    page: Path, dev_server: DevServer, tmp_path: Path
) -> None:
    # Given the page's runnable blocks, in order, as one shell session
    blocks = [block for block in blocks_of(page) if block.runs]
    missing = [name for name, source in PAGE_FILES.items() if not source.is_file()]
    if missing and any(name in block.text for block in blocks for name in missing):
        pytest.fail(f"the shared data the page uploads is not here: {missing}")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "API": dev_server.base_url,
        "B": dev_server.base_url,
        "KEY": dev_server.api_key,
        "STRATUS_API_KEY": dev_server.api_key,
    }

    # When bash runs them against the dev server
    completed = subprocess.run(
        ["bash", "-c", _script(blocks, dev_server)],
        cwd=_scratch_directory(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    # Then every command succeeded (or answered only the error statuses its block shows)
    assert completed.returncode == 0, (
        f"{page.relative_to(REPO)}: exit {completed.returncode}\n--- stderr\n{completed.stderr[-4000:]}"
        f"\n--- stdout\n{completed.stdout[-3000:]}"
    )
