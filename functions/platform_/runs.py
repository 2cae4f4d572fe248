"""Runs: a call of an agent's deployed version, stored with its usage and metered once.

A run uses the version the production alias names (or the one asked for). A synchronous run answers within
its timeout; an asynchronous one is stored as queued and executed by the run state machine (an execution named
after the run id), and a retried execution finds the run done. Model calls are metered in a scope whose origin
is the run id (call ids ``platform:<run id>:<n>``; stratus.ai records each call), so a retried recording never
counts twice.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from platform_.domain import AgentVersion, Run, new_id
from platform_.repository import PlatformRepository, Position
from platform_.settings import PlatformSettings
from stratus.errors import Conflict, NotFound, StratusError, UpstreamFailed, UpstreamUnavailable
from stratus.identity import Principal
from stratus.metering import Caller, UsageRecorder, metering_scope, scope_context

if TYPE_CHECKING:
    from stratus.ai import ChatModel, ChatRequest, ChatResult, Usage
    from stratus.flows import StepFunctions

SERVICE = "platform"
ChatModels = Callable[[str | None], "ChatModel"]


class RunService:
    def __init__(
        self,
        settings: PlatformSettings,
        repository: PlatformRepository,
        chat_models: ChatModels,
        usage: UsageRecorder,
        flows: Callable[[], StepFunctions] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._repository = repository
        self._chat_models = chat_models
        self._usage = usage
        self._flows = flows
        self._clock = clock
        self._calls = ThreadPoolExecutor(max_workers=4, thread_name_prefix="agent-run")

    def run(self, principal: Principal, agent_id: str, text: str, version: int | None = None) -> Run:
        """Run the agent on ``text`` now; a failed run is stored too and then reported (502/503 with its id)."""
        deployed = self._deployed(principal, agent_id, version)
        return self._execute(principal, new_id("r"), deployed, text, self._clock())

    def stream(self, principal: Principal, agent_id: str, text: str, version: int | None = None) -> Iterator[str | Run]:
        """Run the agent now, yielding the text as the model produces it and then the stored run (failed too).

        The agent and version are checked before the first chunk, so a 404 or 409 is still a plain answer.
        """
        deployed = self._deployed(principal, agent_id, version)
        return self._streamed(principal, new_id("r"), deployed, text, self._clock())

    def start(self, principal: Principal, agent_id: str, text: str, version: int | None = None) -> Run:
        """Store the run as queued and start its execution; poll ``GET /platform/runs/{id}`` for the result."""
        deployed = self._deployed(principal, agent_id, version)
        if self._flows is None or not self._settings.platform_run_state_machine_arn:
            raise Conflict("asynchronous runs are not configured on this deployment; run synchronously")
        queued = _pending(principal, new_id("r"), deployed, text, self._clock())
        self._repository.save_run(queued)
        try:
            self._flows().start_execution(
                self._settings.platform_run_state_machine_arn,
                queued.run_id,
                {"tenant_id": queued.tenant_id, "run_id": queued.run_id},
            )
        except StratusError as exc:
            self._repository.save_run(replace(queued, status="failed", error=exc.detail))
            raise type(exc)(exc.detail, **{**exc.extensions, "run_id": queued.run_id}) from exc
        return queued

    def execute_queued(self, tenant_id: str, run_id: str) -> Run | None:
        """Execute a queued run (the state machine's task); a run already done is returned as it is."""
        try:
            run = self._repository.get_run(tenant_id, run_id)
        except NotFound:
            return None
        if run.status != "queued":
            return run
        deployed = self._repository.get_version(tenant_id, run.agent_id, run.version)
        principal = Principal(tenant_id=tenant_id, user_id=run.user_id, key_id=run.key_id)
        try:
            return self._execute(principal, run_id, deployed, run.input, run.created_at.timestamp())
        except StratusError:
            stored = self._repository.get_run(tenant_id, run_id)
            if stored.status == "queued":
                raise  # nothing was stored: the execution retries
            return stored

    def get(self, principal: Principal, run_id: str) -> Run:
        return self._repository.get_run(principal.tenant_id, run_id)

    def list_runs(
        self, principal: Principal, agent_id: str, limit: int, position: Position | None
    ) -> tuple[list[Run], Position | None]:
        self._repository.get_agent(principal.tenant_id, agent_id)
        return self._repository.list_runs(principal.tenant_id, agent_id, limit, position)

    def _deployed(self, principal: Principal, agent_id: str, version: int | None) -> AgentVersion:
        agent = self._repository.get_agent(principal.tenant_id, agent_id)
        number = version if version is not None else agent.production_version
        if number is None:
            raise Conflict(f"agent {agent_id} has no deployed version; deploy it first", agent_id=agent_id)
        return self._repository.get_version(principal.tenant_id, agent_id, number)

    def _execute(self, principal: Principal, run_id: str, deployed: AgentVersion, text: str, started_at: float) -> Run:
        started = time.perf_counter()
        model = self._chat_models(deployed.config.model)
        pending = _pending(principal, run_id, deployed, text, started_at)
        with metering_scope(_caller(principal, run_id), self._usage):
            try:
                result = self._generate(model, deployed, text)
            except StratusError as exc:
                latency_ms = round((time.perf_counter() - started) * 1000, 1)
                self._repository.save_run(
                    replace(pending, status="failed", error=exc.detail, model=model.model_id, latency_ms=latency_ms)
                )
                raise type(exc)(exc.detail, **{**exc.extensions, "run_id": run_id}) from exc
        run = _succeeded(pending, result.text, result.usage, started)
        self._repository.save_run(run)
        return run

    def _streamed(
        self, principal: Principal, run_id: str, deployed: AgentVersion, text: str, started_at: float
    ) -> Iterator[str | Run]:
        started = time.perf_counter()
        model = self._chat_models(deployed.config.model)
        pending = _pending(principal, run_id, deployed, text, started_at)
        timeout_s = min(deployed.config.limits.timeout_s, self._settings.platform_run_timeout_s)
        pieces: list[str] = []
        usage: Usage | None = None
        # Every step of the stream runs in the run's metering scope (a generator cannot hold one open across yields).
        scope = scope_context(_caller(principal, run_id), self._usage)
        chunks = scope.run(model.stream, _chat_request(deployed, text))
        try:
            while (chunk := scope.run(next, chunks, None)) is not None:
                if time.perf_counter() - started > timeout_s:
                    raise UpstreamUnavailable(f"the model did not finish within {timeout_s:g} s")
                if chunk.text:
                    pieces.append(chunk.text)
                    yield chunk.text
                usage = chunk.usage or usage
            if usage is None:
                raise UpstreamFailed("the model's stream ended without its usage")
        except StratusError as exc:
            latency_ms = round((time.perf_counter() - started) * 1000, 1)
            failed = replace(pending, status="failed", error=exc.detail, model=model.model_id, latency_ms=latency_ms)
            self._repository.save_run(failed)
            yield failed
            return
        run = _succeeded(pending, "".join(pieces), usage, started)
        self._repository.save_run(run)
        yield run

    def _generate(self, model: ChatModel, deployed: AgentVersion, text: str) -> ChatResult:
        config = deployed.config
        request = _chat_request(deployed, text)
        timeout_s = min(config.limits.timeout_s, self._settings.platform_run_timeout_s)
        # The call runs in a worker thread with this context, so the metering scope reaches the model adapter.
        call = self._calls.submit(contextvars.copy_context().run, model.generate, request)
        try:
            return call.result(timeout=timeout_s)
        except FutureTimeout as exc:
            # The call cannot be interrupted; its thread ends when the provider's own timeout fires.
            raise UpstreamUnavailable(f"the model did not answer within {timeout_s:g} s") from exc


def _caller(principal: Principal, run_id: str) -> Caller:
    return Caller(
        tenant_id=principal.tenant_id,
        service=SERVICE,
        origin_id=run_id,
        user_id=principal.user_id,
        key_id=principal.key_id,
    )


def _chat_request(deployed: AgentVersion, text: str) -> ChatRequest:
    from stratus.ai import ChatMessage, ChatRequest

    limits = deployed.config.limits
    return ChatRequest(
        system=deployed.config.system_prompt,
        messages=(ChatMessage(role="user", content=text),),
        purpose="chat",
        max_tokens=limits.max_output_tokens,
        temperature=limits.temperature,
    )


def _succeeded(pending: Run, output: str, usage: Usage, started: float) -> Run:
    return replace(
        pending,
        status="succeeded",
        output=output,
        model=usage.model,
        offline=usage.offline,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def _pending(principal: Principal, run_id: str, deployed: AgentVersion, text: str, started_at: float) -> Run:
    """The run before its model call: queued, with nothing produced yet."""
    return Run(
        tenant_id=principal.tenant_id,
        run_id=run_id,
        agent_id=deployed.agent_id,
        version=deployed.version,
        status="queued",
        input=text,
        output=None,
        error=None,
        model=deployed.config.model or "",
        offline=False,
        input_tokens=0,
        output_tokens=0,
        cost_usd=0.0,
        latency_ms=0.0,
        created_at=datetime.fromtimestamp(started_at, tz=UTC),
        user_id=principal.user_id,
        key_id=principal.key_id,
    )
