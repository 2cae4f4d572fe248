"""Which changed files are reviewed, and the diff split into model-sized chunks.

Skipped: deleted files (nothing new to comment on), binary files (GitHub sends no patch), lock files,
generated files (by name or by a "generated" marker at the top), and paths the repository's rules ignore.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from codereview.globs import ignored
from stratus.github.diff import DiffLine, FilePatch, Hunk

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "mix.lock",
        "pubspec.lock",
        "podfile.lock",
        "packages.lock.json",
        "flake.lock",
    }
)
BINARY_EXTENSIONS = frozenset(
    {
        *("png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tiff", "psd", "pdf"),
        *("zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "jar", "war", "ear", "class"),
        *("so", "dylib", "dll", "exe", "bin", "o", "a", "wasm", "pyc", "pyo"),
        *("woff", "woff2", "ttf", "eot", "otf", "mp3", "mp4", "mov", "avi", "mkv", "wav", "flac"),
        *("parquet", "avro", "onnx", "pt", "pkl", "db", "sqlite"),
    }
)
_GENERATED_NAMES = re.compile(
    r"(\.min\.(js|css)$|\.map$|_pb2(_grpc)?\.pyi?$|\.pb\.go$|\.pb\.(cc|h)$|\.generated\.[a-z]+$|\.g\.dart$|\.snap$)"
)
_GENERATED_DIRS = ("node_modules/", "vendor/", "dist/", "__generated__/", "third_party/")
_GENERATED_MARKER = re.compile(r"@generated|code generated .* do not edit|auto-?generated|do not edit", re.IGNORECASE)
LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".java": "java",
    ".kt": "kotlin",
    ".go": "go",
    ".rb": "ruby",
    ".php": "php",
    ".cs": "csharp",
    ".rs": "rust",
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".md": "markdown",
    ".sh": "shell",
    ".sql": "sql",
    ".xml": "xml",
}
CONTENT_LANGUAGES = frozenset({"python", "json", "toml"})  # the syntax stage parses these files whole


def language_of(path: str) -> str:
    return LANGUAGES.get(posixpath.splitext(path)[1].lower(), "other")


def skip_reason(entry: dict[str, Any], ignored_paths: Sequence[str]) -> str | None:
    """Why a files-API entry is not reviewed, or None to review it."""
    path = str(entry.get("filename") or "")
    name = posixpath.basename(path).lower()
    status = entry.get("status")
    if status == "removed":
        return "deleted"
    pattern = ignored(path, tuple(ignored_paths))
    if pattern is not None:
        return f"ignored by the rule {pattern!r}"
    if posixpath.splitext(name)[1].lstrip(".") in BINARY_EXTENSIONS:
        return "binary"
    if name in LOCK_FILES:
        return "lock file"
    if _GENERATED_NAMES.search(name) or any(f"/{d}" in f"/{path}" for d in _GENERATED_DIRS):
        return "generated"
    patch = entry.get("patch")
    if not patch:
        if status == "renamed" and not entry.get("changes"):
            return "renamed without changes"
        return "binary or too large for a diff"
    head = patch.split("\n", 8)[:8]
    if head and head[0].startswith("@@ -0,0 +1") and any(_GENERATED_MARKER.search(line) for line in head[1:]):
        return "generated"
    return None


class ChunkFile(BaseModel):
    path: str
    text: str
    lines: list[int] = Field(default_factory=list, description="added new-side lines this part shows")


class Chunk(BaseModel):
    index: int
    files: list[ChunkFile]
    tokens: int

    @property
    def paths(self) -> list[str]:
        return sorted({f.path for f in self.files})

    def lines_of(self, path: str) -> set[int]:
        return {line for f in self.files if f.path == path for line in f.lines}

    def render(self) -> str:
        return "\n\n".join(f.text for f in self.files)


def render_line(line: DiffLine) -> str:
    """One diff line as the model reads it: new-side lines numbered, deletions marked without a number."""
    if line.kind == "add":
        return f"+{line.new:>5} | {line.text}"
    if line.kind == "del":
        return f"-{'':>5} | {line.text}"
    return f" {line.new:>5} | {line.text}"


@dataclass(frozen=True)
class ReviewablePatch:
    path: str
    status: str
    patch: FilePatch


@dataclass
class _Piece:
    path: str
    text: str
    tokens: int
    lines: list[int]


def _added(lines: Iterable[DiffLine]) -> list[int]:
    return [line.new for line in lines if line.kind == "add" and line.new is not None]


def _pieces(item: ReviewablePatch, budget: int, count: Callable[[str], int]) -> list[_Piece]:
    title = f"### {item.path} ({item.status})"
    whole = "\n".join([title, *(text for hunk in item.patch.hunks for text in _hunk_lines(hunk))])
    tokens = count(whole)
    if tokens <= budget:
        return [_Piece(item.path, whole, tokens, _added(item.patch.lines))]
    pieces: list[_Piece] = []
    for hunk in item.patch.hunks:
        text = "\n".join([f"{title} [part]", *_hunk_lines(hunk)])
        hunk_tokens = count(text)
        if hunk_tokens <= budget:
            pieces.append(_Piece(item.path, text, hunk_tokens, _added(hunk.lines)))
            continue
        part: list[DiffLine] = []
        for line in hunk.lines:
            candidate = "\n".join([f"{title} [part]", hunk.header, *(render_line(x) for x in [*part, line])])
            if part and count(candidate) > budget:
                part_text = "\n".join([f"{title} [part]", hunk.header, *(render_line(x) for x in part)])
                pieces.append(_Piece(item.path, part_text, count(part_text), _added(part)))
                part = []
            part.append(line)
        if part:
            part_text = "\n".join([f"{title} [part]", hunk.header, *(render_line(x) for x in part)])
            pieces.append(_Piece(item.path, part_text, count(part_text), _added(part)))
    return pieces


def _hunk_lines(hunk: Hunk) -> list[str]:
    return [hunk.header, *(render_line(line) for line in hunk.lines)]


def chunk_patches(
    patches: Iterable[ReviewablePatch], budget: int, count: Callable[[str], int], max_chunks: int
) -> tuple[list[Chunk], list[str]]:
    """Pack whole files into chunks of at most ``budget`` tokens; split a big file by hunks, a big hunk by lines.

    Returns the chunks and the paths that did not fit in ``max_chunks`` (left to the parsers and rules).
    """
    chunks: list[Chunk] = []
    overflow: set[str] = set()
    current: list[ChunkFile] = []
    current_tokens = 0
    for item in patches:
        for piece in _pieces(item, budget, count):
            if current and current_tokens + piece.tokens > budget:
                chunks.append(Chunk(index=len(chunks), files=current, tokens=current_tokens))
                current, current_tokens = [], 0
            if len(chunks) >= max_chunks:
                overflow.add(piece.path)
                continue
            current.append(ChunkFile(path=piece.path, text=piece.text, lines=piece.lines))
            current_tokens += piece.tokens
    if current:
        if len(chunks) < max_chunks:
            chunks.append(Chunk(index=len(chunks), files=current, tokens=current_tokens))
        else:
            overflow.update(f.path for f in current)
    return chunks, sorted(overflow)
