"""Security rules that need no model: hard-coded secrets, injection, unsafe deserialisation, disabled TLS checks.

Rules read the added lines of the diff in any language. A secret's value is never repeated in a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codereview.domain import Finding, Severity
from codereview.prepared import PreparedFile
from stratus.github.diff import parse_patch


@dataclass(frozen=True)
class SecurityRule:
    rule: str
    pattern: re.Pattern[str]
    severity: Severity
    message: str
    languages: frozenset[str] | None = None  # None: every language


_PY = frozenset({"python"})
_JS = frozenset({"javascript", "typescript"})
# Names that hold where a secret lives or what it is called, not the secret itself.
_NOT_A_SECRET_NAME = re.compile(
    r"(?i)(name|arn|path|file|url|uri|prefix|_id|field|header|env|param|type|length|hint|label|policy|version)$"
)
_PLACEHOLDER = re.compile(r"(?i)(example|changeme|placeholder|your[_-]|dummy|\*{3,}|x{6,}|<[^>]+>|\$\{|%\(|\{\{)")

RULES: tuple[SecurityRule, ...] = (
    SecurityRule(
        "secret/aws-access-key-id",
        re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
        "critical",
        "an AWS access key id is committed: revoke it and load credentials from the environment or a secret store.",
    ),
    SecurityRule(
        "secret/private-key",
        re.compile(r"-----BEGIN (RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY( BLOCK)?-----"),
        "critical",
        "a private key is committed: revoke it and keep keys out of the repository.",
    ),
    SecurityRule(
        "secret/github-token",
        re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
        "critical",
        "a GitHub token is committed: revoke it at once; GitHub secret scanning may already have.",
    ),
    SecurityRule(
        "secret/slack-token",
        re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
        "critical",
        "a Slack token is committed: revoke it and read it from a secret store.",
    ),
    SecurityRule(
        "secret/stripe-key",
        re.compile(r"\b(sk|rk)_live_[0-9A-Za-z]{20,}\b"),
        "critical",
        "a live Stripe key is committed: roll it in the Stripe dashboard.",
    ),
    SecurityRule(
        "secret/google-api-key",
        re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
        "high",
        "a Google API key is committed: restrict or rotate it.",
    ),
    SecurityRule(
        "secret/hardcoded-credential",
        re.compile(
            r"(?i)(?P<name>[\w-]*(password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)[\w-]*)"
            r"[\"']?\s*[:=]\s*[\"'][^\"'\s]{8,}[\"']"
        ),
        "high",
        "a credential is hard-coded: read it from the environment or a secret store.",
    ),
    SecurityRule(
        "injection/sql-string-building",
        re.compile(
            r"\.(execute|executemany|raw|query)\(\s*(f[\"']|[\"'][^\"']*[\"']\s*(%|\+|\.format\())"
            r"|\.(execute|executemany)\([^)]*\.format\(",
            re.IGNORECASE,
        ),
        "high",
        "SQL is built from strings: pass values as query parameters so input cannot change the statement.",
    ),
    SecurityRule(
        "injection/shell",
        re.compile(r"subprocess\.\w+\([^)]*shell\s*=\s*True|\bos\.(system|popen)\("),
        "high",
        "a shell runs a command string: pass an argument list without shell=True so input cannot inject commands.",
        _PY,
    ),
    SecurityRule(
        "injection/eval",
        re.compile(r"(?<![\w.])(eval|exec)\s*\("),
        "high",
        "eval/exec runs arbitrary code: parse the input (ast.literal_eval, json) instead.",
        _PY | _JS,
    ),
    SecurityRule(
        "injection/java-runtime-exec",
        re.compile(r"Runtime\.getRuntime\(\)\.exec\("),
        "high",
        "Runtime.exec with built strings can be injected: use ProcessBuilder with separate arguments.",
        frozenset({"java", "kotlin"}),
    ),
    SecurityRule(
        "deserialization/pickle",
        re.compile(r"\b(c?[Pp]ickle|dill|joblib|shelve)\.(loads?|open)\(|\bmarshal\.loads?\("),
        "high",
        "unpickling runs code from the data: never load pickles you did not write; use JSON.",
        _PY,
    ),
    SecurityRule(
        "deserialization/yaml-load",
        re.compile(r"\byaml\.(unsafe_load|load)\((?![^)]*Loader\s*=\s*(yaml\.)?(Safe|CSafe)Loader)"),
        "high",
        "yaml.load can build arbitrary objects: use yaml.safe_load.",
        _PY,
    ),
    SecurityRule(
        "deserialization/dangerous-flag",
        re.compile(r"allow_dangerous_deserialization\s*=\s*True"),
        "high",
        "allow_dangerous_deserialization=True unpickles data: only for files you created yourself.",
    ),
    SecurityRule(
        "deserialization/java-object-stream",
        re.compile(r"new\s+ObjectInputStream\(|\.readObject\(\)"),
        "high",
        "Java deserialisation of untrusted bytes can run code: validate with an ObjectInputFilter or use JSON.",
        frozenset({"java", "kotlin"}),
    ),
    SecurityRule(
        "tls/verification-disabled",
        re.compile(r"verify\s*=\s*False|rejectUnauthorized\s*:\s*false|InsecureSkipVerify\s*:\s*true"),
        "high",
        "TLS certificate verification is turned off: connections can be intercepted.",
    ),
)


def security_rule_findings(item: PreparedFile, lines: set[int]) -> list[Finding]:
    findings: list[Finding] = []
    for line in parse_patch(item.patch).lines:
        if line.kind != "add" or line.new is None or line.new not in lines:
            continue
        text = line.text
        for rule in RULES:
            if rule.languages is not None and item.language not in rule.languages:
                continue
            match = rule.pattern.search(text)
            if match is None:
                continue
            if rule.rule == "secret/hardcoded-credential" and (
                _PLACEHOLDER.search(match.group(0)) or _NOT_A_SECRET_NAME.search(match.group("name"))
            ):
                continue
            findings.append(
                Finding(
                    path=item.path,
                    line=line.new,
                    severity=rule.severity,
                    category="security",
                    message=rule.message,
                    rule=rule.rule,
                    stage="security",
                    source="rule",
                    line_text=text,
                )
            )
    return findings
