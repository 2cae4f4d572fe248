"""How agents decide each turn.

With a real model (Bedrock, OpenAI) every agent runs `ModelPolicy`: the model sees its instructions,
the tool catalog and what the tools returned, and answers with one JSON action per turn.

Offline there is no model that can plan, so each role has a deterministic behaviour that still does
the work for real: research searches the tenant's documents (then the task's inputs) and has the chat
port answer from the passages; code review runs the static checks on every snippet; writing composes
the deliverable from the research notes, the review and the feedback. Every model call still goes
through the chat port, so usage is metered and labelled offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any
from typing import Final as FinalType

from stratus.agents.code_checks import code_blocks
from stratus.agents.previews import excerpt
from stratus.agents.runtime import Behaviour, Decision, Final, Handoff, ToolCall, Turn
from stratus.agents.sources import Source
from stratus.agents.specs import DEFAULT_MODEL, AgentSpec, Role
from stratus.agents.tools import ToolRegistry
from stratus.ai.chat import get_chat_model
from stratus.ai.ports import ChatModel
from stratus.ai.rag import answer_request
from stratus.ai.settings import ai_settings_of
from stratus.ai.text import sentences, terms
from stratus.ai.types import ChatMessage, ChatRequest, Passage
from stratus.config import Settings, get_settings

__all__ = [
    "CodeReviewBehaviour",
    "GeneralBehaviour",
    "ModelPolicy",
    "ResearchBehaviour",
    "WritingBehaviour",
    "behaviour_for",
    "chat_model_for",
    "override_behaviour",
    "parse_decision",
]

MAX_SUMMARY_PASSAGES: FinalType = 8
_CITATION = re.compile(r"\s*\[(\d{1,3})\]")
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def _passages(sources: Sequence[Source], first_id: int = 1) -> list[Passage]:
    return [
        Passage(
            citation_id=first_id + index,
            document_id=source.title,
            chunk_id=source.source_id,
            text=source.text,
            page=source.page,
            score=source.score,
        )
        for index, source in enumerate(sources)
    ]


def _sources_in(turn: Turn, *tools: str) -> list[Source]:
    seen: dict[str, Source] = {}
    for tool in tools:
        for output in turn.outputs_of(tool):
            for raw in output.data.get("sources", []):
                source = Source.from_dict(raw)
                seen.setdefault(source.source_id, source)
    return list(seen.values())


def _relevant(question: str, sources: Sequence[Source]) -> list[Source]:
    """Passages that share a content word with the question: vector search always returns its nearest
    neighbours, related or not, and an unrelated passage must never become a note."""
    wanted = set(terms(question))
    return [source for source in sources if wanted & set(terms(source.text))]


def _tried(turn: Turn, tool: str) -> bool:
    return any(o.call.tool == tool for o in turn.observations)


def _notes(answer: str, citations: Sequence[int], sources: Sequence[Source]) -> list[dict[str, Any]]:
    """Each cited sentence of ``answer`` as a note pointing at its sources; the closest passages otherwise."""
    if citations:
        notes = []
        for sentence in sentences(answer):
            ids = [int(n) for n in _CITATION.findall(sentence) if 1 <= int(n) <= len(sources)]
            text = _CITATION.sub("", sentence).strip()
            if text:
                notes.append({"text": text, "sources": [sources[n - 1].source_id for n in ids], "closest": False})
        return notes
    return [
        {"text": excerpt(" ".join(sentences(source.text)[:2]), 300), "sources": [source.source_id], "closest": True}
        for source in sources[:2]
    ]


class ResearchBehaviour:
    """Search the tenant's documents and the task's inputs; answer from the passages that bear on the question."""

    def decide(self, turn: Turn) -> Decision:
        question = turn.brief.question
        tools = turn.spec.tools
        if "search_documents" in tools and not _tried(turn, "search_documents"):
            return ToolCall("search_documents", {"query": question, "k": 5}, "what the tenant's documents say")
        if "read_inputs" in tools and turn.brief.inputs and not _tried(turn, "read_inputs"):
            return ToolCall("read_inputs", {"query": question, "k": 5}, "what the task's own inputs say")
        sources = _relevant(question, _sources_in(turn, "read_inputs", "search_documents"))
        if not sources:
            return self.conclude(turn, "final")
        result = turn.gateway.generate(answer_request(question, _passages(sources)), why="answer from the passages")
        notes = _notes(result.text, result.citations, sources)
        listing = "\n".join(
            f"[{n}] {s.title}: {excerpt(s.text, 160)}"
            for n, s in enumerate(sources, start=1)
            if not result.citations or n in result.citations
        )
        return Final(
            f"{result.text}\n\nSources:\n{listing}",
            {"question": question, "answer": result.text, "notes": notes, "sources": [s.as_dict() for s in sources]},
        )

    def conclude(self, turn: Turn, reason: str) -> Final:
        question = turn.brief.question
        sources = _relevant(question, _sources_in(turn, "read_inputs", "search_documents"))
        if not sources:
            where = " or ".join(
                {"search_documents": "the tenant's documents", "read_inputs": "the task's inputs"}[tool]
                for tool in turn.spec.tools
                if tool in ("search_documents", "read_inputs")
            )
            return Final(
                f"No passages in {where or 'any source'} address: {question}",
                {"question": question, "answer": "", "notes": [], "sources": []},
            )
        notes = _notes("", (), sources)
        return Final(
            "Closest passages (not summarised: " + reason + "):\n" + "\n".join(f"- {n['text']}" for n in notes),
            {"question": question, "answer": "", "notes": notes, "sources": [s.as_dict() for s in sources]},
        )


class CodeReviewBehaviour:
    """Run the static checks on every Python snippet of the task, one per turn, then report."""

    def decide(self, turn: Turn) -> Decision:
        if "check_python" in turn.spec.tools:
            checked = {
                str(o.call.arguments.get("filename")) for o in turn.observations if o.call.tool == "check_python"
            }
            for block in code_blocks(turn.brief.goal, turn.brief.inputs):
                if block.is_python and block.name not in checked and turn.number < turn.max_turns:
                    return ToolCall("check_python", {"code": block.code, "filename": block.name}, "check every snippet")
        return self.conclude(turn, "final")

    def conclude(self, turn: Turn, reason: str) -> Final:
        blocks = code_blocks(turn.brief.goal, turn.brief.inputs)
        reports = [output.data for output in turn.outputs_of("check_python")]
        skipped = [block.name for block in blocks if not block.is_python]
        findings = [finding for report in reports for finding in report.get("findings", [])]
        if not blocks:
            text = "The task contains no code to review."
        elif "check_python" not in turn.spec.tools:
            text = f"{len(blocks)} snippet(s) found, but this agent has no checking tool: nothing was checked."
        else:
            unchecked = [b.name for b in blocks if b.is_python and b.name not in {r["file"] for r in reports}]
            text = _review_text(reports, findings, unchecked, skipped, reason)
        return Final(
            text,
            {
                "files": reports,
                "findings": len(findings),
                "errors": sum(1 for f in findings if f.get("severity") == "error"),
                "skipped": skipped,
            },
        )


def _review_text(
    reports: Sequence[dict[str, Any]],
    findings: Sequence[dict[str, Any]],
    unchecked: Sequence[str],
    skipped: Sequence[str],
    reason: str,
) -> str:
    """The review as the user reads it: the checkers used, then each file's findings, then what was left out."""
    checkers = sorted({c for report in reports for c in report.get("checkers", [])})
    versions = {report.get("ruff_version") for report in reports if report.get("ruff_version")}
    used = f" ({', '.join(sorted(v for v in versions if v))})" if versions else ""
    lines = [f"Checked {len(reports)} Python snippet(s) with {' and '.join(checkers) or 'nothing'}{used}: "
             f"{len(findings)} finding(s)."]
    for report in reports:
        file_findings = report.get("findings", [])
        lines.append(f"{report['file']}: {len(file_findings) or 'no'} finding(s)")
        lines.extend(f"- line {f['line']}: {f['code']} {f['message']} ({f['severity']})" for f in file_findings)
        lines.extend(f"- note: {note}" for note in report.get("notes", []))
    if unchecked:
        lines.append(f"Not checked ({reason}): {', '.join(unchecked)}")
    if skipped:
        lines.append(f"Not reviewed (not Python): {', '.join(skipped)}")
    return "\n".join(lines)


def _merged_research(research: Sequence[dict[str, Any]]) -> tuple[list[Source], list[dict[str, Any]]]:
    """All research sources (each once, global numbering) and every note rewritten to that numbering."""
    sources: dict[str, Source] = {}
    for step in research:
        for raw in step.get("sources", []):
            source = Source.from_dict(raw)
            sources.setdefault(source.source_id, source)
    numbering = {source_id: number for number, source_id in enumerate(sources, start=1)}
    notes: dict[str, dict[str, Any]] = {}
    for step in research:
        for note in step.get("notes", []):
            cited = {numbering[s] for s in note.get("sources", []) if s in numbering}
            kept = notes.setdefault(
                note["text"], {"text": note["text"], "citations": [], "question": step.get("question")}
            )
            kept["citations"] = sorted(cited | set(kept["citations"]))
    return list(sources.values()), list(notes.values())


def _cite(numbers: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


class WritingBehaviour:
    """Compose the deliverable from the research notes, the code review and the feedback, citing sources."""

    def decide(self, turn: Turn) -> Decision:
        brief = turn.brief
        if not brief.research and "research" in turn.spec.handoffs and "research" in brief.team:
            return Handoff("research", f"there are no research notes yet; find sources on: {brief.goal}")
        sources, notes = _merged_research(brief.research)
        passages = _passages(sources[:MAX_SUMMARY_PASSAGES])
        summary = ""
        if passages:
            result = turn.gateway.generate(answer_request(brief.goal, passages), why="summarise the research")
            summary = result.text if result.citations else ""
        addressed = []
        for feedback in (*brief.feedback, *brief.critique):
            answer = ""
            if passages:
                result = turn.gateway.generate(answer_request(feedback, passages), why="address the feedback")
                answer = result.text if result.citations else ""
            addressed.append({"feedback": feedback, "answer": answer})
        return self._compose(turn, sources, notes, summary, addressed)

    def conclude(self, turn: Turn, reason: str) -> Final:
        sources, notes = _merged_research(turn.brief.research)
        addressed = [{"feedback": f, "answer": ""} for f in (*turn.brief.feedback, *turn.brief.critique)]
        return self._compose(turn, sources, notes, "", addressed)

    @staticmethod
    def _compose(
        turn: Turn,
        sources: Sequence[Source],
        notes: Sequence[dict[str, Any]],
        summary: str,
        addressed: Sequence[dict[str, str]],
    ) -> Final:
        brief = turn.brief
        title = excerpt(sentences(brief.goal)[0] if sentences(brief.goal) else brief.goal, 120).rstrip(".")
        lines = [f"# {title}", "", "## Summary", ""]
        if summary:
            lines.append(summary)
        elif notes:
            lines.append(" ".join(f"{n['text']} {_cite(n['citations'])}".strip() for n in notes[:3]))
        else:
            lines.append("The research found no passages that address this goal.")
        if notes:
            lines += ["", "## Findings", ""]
            lines += [f"- {note['text']} {_cite(note['citations'])}".rstrip() for note in notes]
        if brief.reviews:
            lines += ["", "## Code review", ""]
            for review in brief.reviews:
                lines += [f"- {line.lstrip('- ')}" for line in str(review.get("text", "")).splitlines() if line.strip()]
        if addressed:
            lines += ["", "## Feedback addressed", ""]
            for item in addressed:
                response = item["answer"] or "No source addresses this; it is noted for the reviewer."
                lines.append(f'- "{item["feedback"]}": {response}')
        cited = {int(number) for number in _CITATION.findall("\n".join(lines))}
        if cited:
            lines += ["", "## Sources", ""]
            lines += [f"[{n}] {s.title}: {excerpt(s.text, 160)}" for n, s in enumerate(sources, start=1) if n in cited]
        if turn.gateway.provider == "offline":
            lines += ["", "_Composed offline: extractive sentences from the sources, no language model wrote this._"]
        text = "\n".join(lines)
        return Final(
            text,
            {
                "title": title,
                "summary": summary,
                "notes": list(notes),
                "feedback_addressed": list(addressed),
                "sources": [s.as_dict() for s in sources],
            },
        )


class GeneralBehaviour:
    """A tenant's general agent offline: use each of its tools once on the question, answer from the passages."""

    def decide(self, turn: Turn) -> Decision:
        brief = turn.brief
        for tool in turn.spec.tools:
            if _tried(turn, tool) or turn.number >= turn.max_turns:
                continue
            if tool in ("search_documents", "read_inputs"):
                return ToolCall(tool, {"query": brief.question, "k": 5}, "gather passages")
            if tool == "check_python":
                block = next((b for b in code_blocks(brief.goal, brief.inputs) if b.is_python), None)
                if block is not None:
                    return ToolCall(tool, {"code": block.code, "filename": block.name}, "check the code")
        sources = _relevant(brief.question, _sources_in(turn, "read_inputs", "search_documents"))
        if sources:
            result = turn.gateway.generate(answer_request(brief.question, _passages(sources)), why="answer")
            notes = _notes(result.text, result.citations, sources)
            text = result.text if result.citations else "\n".join(f"- {note['text']}" for note in notes)
            return Final(text, {"answer": result.text, "notes": notes, "sources": [s.as_dict() for s in sources]})
        return self.conclude(turn, "final")

    def conclude(self, turn: Turn, reason: str) -> Final:
        gathered = [f"{o.call.tool}: {excerpt(o.output.content, 300)}" for o in turn.observations]
        text = "\n".join(gathered) if gathered else f"Nothing to work with for: {turn.brief.question}"
        return Final(text, {"observations": len(turn.observations), "stopped": reason})


def parse_decision(text: str) -> Decision:
    """One JSON action from a model reply; a reply that is not a valid action is taken as the final answer."""
    match = _JSON_OBJECT.search(text)
    if match is not None:
        try:
            action = json.loads(match.group())
        except json.JSONDecodeError:
            action = None
        if isinstance(action, dict):
            if isinstance(action.get("tool"), str):
                arguments = action.get("args", action.get("arguments", {}))
                return ToolCall(action["tool"], arguments if isinstance(arguments, dict) else {}, "model's choice")
            if isinstance(action.get("handoff"), str):
                return Handoff(action["handoff"], str(action.get("note", "")))
            if isinstance(action.get("final"), str):
                return Final(action["final"])
    return Final(text.strip())


class ModelPolicy:
    """A real model decides each turn, answering with one JSON action."""

    def __init__(self, tools: ToolRegistry) -> None:
        self._tools = tools

    def _system(self, turn: Turn) -> str:
        spec, brief = turn.spec, turn.brief
        handoffs = [agent for agent in spec.handoffs if agent in brief.team]
        return (
            f"{spec.instructions}\n\nYou are the '{spec.name}' agent (role: {spec.role}) of a team working on one "
            f"task. You have at most {turn.max_turns} turns; this is turn {turn.number}.\n"
            f"Tools: {json.dumps(self._tools.catalog(spec.tools))}\n"
            "Reply with exactly one JSON object and nothing else:\n"
            '{"tool": "<name>", "args": {...}} to call a tool;\n'
            + (
                f'{{"handoff": "<agent>", "note": "<what they should do>"}} to hand off to one of {handoffs};\n'
                if handoffs
                else ""
            )
            + '{"final": "<your complete answer in Markdown>"} when you are done. Cite passages as [n].'
        )

    @staticmethod
    def _brief(turn: Turn) -> str:
        brief = turn.brief
        parts = [f"Goal: {brief.goal}", f"Your assignment: {brief.question}"]
        if brief.inputs:
            parts.append("Task inputs: " + ", ".join(item.name for item in brief.inputs))
        for step in brief.research:
            parts.append(f"Research on '{step.get('question', '')}':\n{step.get('answer') or 'nothing found'}")
        for review in brief.reviews:
            parts.append(f"Code review:\n{review.get('text', '')}")
        parts += [f"Reviewer feedback to address: {f}" for f in brief.feedback]
        parts += [f"Critique to address: {c}" for c in brief.critique]
        return "\n\n".join(parts)

    def decide(self, turn: Turn) -> Decision:
        messages = [ChatMessage(role="user", content=self._brief(turn))]
        for observation in turn.observations:
            call = observation.call
            messages.append(
                ChatMessage(role="assistant", content=json.dumps({"tool": call.tool, "args": call.arguments}))
            )
            messages.append(ChatMessage(role="user", content=f"Result of {call.tool}:\n{observation.output.content}"))
        request = ChatRequest(system=self._system(turn), messages=tuple(messages), purpose="chat", max_tokens=1500)
        result = turn.gateway.generate(request, why=f"decide turn {turn.number}")
        return parse_decision(result.text)

    def conclude(self, turn: Turn, reason: str) -> Final:
        gathered = "\n\n".join(f"{o.call.tool}: {excerpt(o.output.content, 600)}" for o in turn.observations)
        return Final(f"Stopped ({reason}) before a final answer. Gathered so far:\n\n{gathered or 'nothing'}")


_OFFLINE: dict[Role, Callable[[], Behaviour]] = {
    "research": ResearchBehaviour,
    "code_review": CodeReviewBehaviour,
    "writing": WritingBehaviour,
    "general": GeneralBehaviour,
}
_overrides: dict[Role, Callable[[], Behaviour]] = {}


def override_behaviour(role: Role, factory: Callable[[], Behaviour]) -> Callable[[], None]:
    """Plug a behaviour for every agent of ``role`` (extensions, tests); returns the function that removes it."""
    _overrides[role] = factory

    def restore() -> None:
        if _overrides.get(role) is factory:
            del _overrides[role]

    return restore


def behaviour_for(spec: AgentSpec, provider: str, tools: ToolRegistry) -> Behaviour:
    if spec.role in _overrides:
        return _overrides[spec.role]()
    if provider == "offline":
        return _OFFLINE[spec.role]()
    return ModelPolicy(tools)


def chat_model_for(spec: AgentSpec, settings: Settings | None = None) -> ChatModel:
    """The configured provider, with the agent's own model id when it names one (offline ignores it)."""
    ai = ai_settings_of(settings or get_settings())
    if spec.model != DEFAULT_MODEL:
        if ai.model_provider == "bedrock":
            ai = ai.model_copy(update={"chat_model_id": spec.model})
        elif ai.model_provider == "openai":
            ai = ai.model_copy(update={"openai_chat_model": spec.model})
    return get_chat_model(ai)
