"""Model stages: the prompt (diff chunk, rules, learned preferences) and structured findings parsed from the reply.

The reply must be JSON: ``{"findings": [{"file", "line", "severity", "category", "message", "suggestion"}]}``.
Entries that name a file or line outside the chunk, or are malformed, are dropped and counted.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from codereview.domain import CATEGORIES, SEVERITIES, Category, Finding, LearnedPreferences, Severity, StageName
from codereview.files import Chunk
from codereview.prepared import Prepared
from stratus.ai import ChatMessage, ChatRequest

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)

LOGIC_SYSTEM_PROMPT = (
    "You are a senior engineer reviewing a pull request. Report real problems in the changed code: bugs, wrong "
    "logic, unhandled errors, race conditions, resource leaks, performance traps, and maintainability problems a "
    "reviewer would block on. Do not comment on formatting, and do not repeat what a linter reports. Lines are "
    "shown as '+ <line> | code' (added), '  <line> | code' (context) and '- | code' (removed); report only "
    "added lines, by the line number shown. Reply with JSON only, no prose:\n"
    '{"findings": [{"file": "<path>", "line": <int>, "severity": "info|low|medium|high|critical", '
    '"category": "bug|error-handling|performance|maintainability|style|testing|documentation", '
    '"message": "<one or two sentences>", "suggestion": "<replacement for that line, or null>"}]}\n'
    'Reply {"findings": []} when the change is fine.'
)

SECURITY_SYSTEM_PROMPT = (
    "You are an application security reviewer. Report exploitable problems in the added lines of this diff: "
    "injection (SQL, shell, template, path), unsafe deserialisation, hard-coded secrets, broken authentication "
    "or authorisation, SSRF, insecure cryptography, disabled TLS checks, sensitive data in logs. Only report what "
    "the code shows, by the line number shown. Reply with JSON only:\n"
    '{"findings": [{"file": "<path>", "line": <int>, "severity": "low|medium|high|critical", '
    '"category": "security", "message": "<what and why>", "suggestion": "<replacement line or null>"}]}'
)


class _ModelFinding(BaseModel):
    model_config = ConfigDict(extra="ignore")

    file: str
    line: int
    severity: str = "medium"
    category: str = "bug"
    message: str
    suggestion: str | None = None

    @field_validator("severity", "category")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


def render_preferences(preferences: LearnedPreferences) -> str:
    """The learned preferences as instructions: what this team rejects, and where its bar is higher."""
    if preferences.empty:
        return ""
    lines = ["Preferences learned from this repository's feedback on earlier reviews:"]
    for pattern, why in sorted(preferences.suppressed_patterns.items()):
        lines.append(f"- Do not report {pattern}: {why}.")
    for category in preferences.categories:
        decided = category.accepted + category.rejected
        if category.action == "suppress":
            lines.append(
                f"- Do not report {category.category} findings: the team accepted {category.accepted} of {decided}."
            )
        elif category.action == "raise-threshold" and category.minimum_severity:
            lines.append(
                f"- Report {category.category} findings only at severity {category.minimum_severity} or above: "
                f"the team accepted {category.accepted} of {decided}."
            )
        elif category.accepted:
            lines.append(
                f"- The team acts on {category.category} findings ({category.accepted} of {decided} accepted)."
            )
    if preferences.suppressed_fingerprints:
        lines.append(f"- {len(preferences.suppressed_fingerprints)} specific findings were rejected before.")
    return "\n".join(lines)


def review_request(stage: StageName, prepared: Prepared, chunk: Chunk, max_tokens: int) -> ChatRequest:
    system = LOGIC_SYSTEM_PROMPT if stage == "logic" else SECURITY_SYSTEM_PROMPT
    extras = []
    if prepared.rules.custom_instructions.strip():
        extras.append(f"Instructions from the repository owners:\n{prepared.rules.custom_instructions.strip()}")
    learned = render_preferences(prepared.preferences)
    if learned and stage == "logic":
        extras.append(learned)
    if extras:
        system = "\n\n".join([system, *extras])
    user = (
        f"Repository {prepared.trigger.repository}, pull request #{prepared.trigger.number} "
        f"({prepared.scope} review). Files in this part: {', '.join(chunk.paths)}.\n\n{chunk.render()}"
    )
    return ChatRequest(
        system=system, messages=(ChatMessage(role="user", content=user),), purpose="chat", max_tokens=max_tokens
    )


def _json_document(text: str) -> Any:
    fenced = _FENCE.search(text)
    candidates = [fenced.group(1)] if fenced else []
    candidates.append(text)
    for candidate in candidates:
        candidate = candidate.strip()
        try:
            return json.loads(candidate)
        except ValueError:
            pass
        for opener, closer in (("{", "}"), ("[", "]")):
            start, end = candidate.find(opener), candidate.rfind(closer)
            if 0 <= start < end:
                try:
                    return json.loads(candidate[start : end + 1])
                except ValueError:
                    continue
    return None


def parse_findings(text: str, stage: StageName, prepared: Prepared, chunk: Chunk) -> tuple[list[Finding], int]:
    """Findings from a model reply, and how many entries were dropped as malformed or out of the chunk."""
    document = _json_document(text)
    entries = document.get("findings") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        return [], 0 if document is not None else 1
    findings: list[Finding] = []
    dropped = 0
    for entry in entries:
        try:
            raw = _ModelFinding.model_validate(entry)
        except ValidationError:
            dropped += 1
            continue
        item = prepared.file(raw.file)
        if item is None or raw.file not in chunk.paths or raw.line not in chunk.lines_of(raw.file):
            dropped += 1
            continue
        severity: Severity = raw.severity if raw.severity in SEVERITIES else "medium"  # type: ignore[assignment]
        category: Category = raw.category if raw.category in CATEGORIES else "bug"  # type: ignore[assignment]
        if stage == "security":
            category = "security"
        content_lines = (item.content or "").splitlines()
        line_text = content_lines[raw.line - 1] if item.content and raw.line <= len(content_lines) else ""
        if not line_text:
            from stratus.github.diff import parse_patch

            line_text = parse_patch(item.patch).new_text(raw.line) or ""
        findings.append(
            Finding(
                path=raw.file,
                line=raw.line,
                severity=severity,
                category=category,
                message=raw.message.strip()[:2000] or "(no message)",
                suggestion=(raw.suggestion or None),
                rule=None,
                stage=stage,
                source="model",
                line_text=line_text[:2000],
            )
        )
    return findings, dropped
