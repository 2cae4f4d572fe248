"""Many multi-agent tasks at once on the local stack: do they all finish, is every event delivered once, and what
does the orchestration cost beyond the model's own time?

Each task (research, code review, writing) waits at its plan approval; a WebSocket client subscribes to every
task's topic, then all plans are approved together. The offline model sleeps ``--latency`` seconds per call, as a
real model would take its time. Figures:
- per step: wall time, model time, and the overhead beyond the model (tool calls, DynamoDB, events, dispatch);
- per task: wall time from approval to result against its critical-path model time;
- all tasks: wall time against the sum of every model call (how much the flows overlap).

    .venv/bin/python bench/orchestrator_load.py [--tasks 20] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
# A script run by path gets only bench/ on sys.path; the handlers and the layer live here.
sys.path[:0] = [str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT / "functions"), str(REPO_ROOT)]

GOAL = (
    "Explain how the deployment pipeline rolls back a bad release. What are the risks of the canary stage?\n"
    "```python\nimport os\n\ndef rollback(version):\n    return previous_version\n```"
)
NOTES = (
    "Deployments go through a canary stage first. The canary receives 5% of traffic for 30 minutes.\n\n"
    "Rollbacks are automatic: when the error rate of the canary exceeds 1%, the pipeline rolls back to the "
    "previous version within two minutes.\n\n"
    "Risks of the canary stage include slow detection of rare errors and user impact on the 5% cohort."
)
TERMINAL = ("succeeded", "failed", "cancelled")


def _at(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["at"].replace("Z", "+00:00")).timestamp()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Subscriber:
    """One WebSocket connection subscribed to every task's topic, recording what arrives, per topic."""

    def __init__(self, client: Any, api_key: str, topics: list[str]) -> None:
        self._context = client.websocket_connect(f"/ws?auth={api_key}")
        self._ws = self._context.__enter__()
        for topic in topics:
            self._ws.send_text(json.dumps({"action": "subscribe", "topic": topic}))
            reply = json.loads(self._ws.receive_text())
            assert reply == {"type": "subscribed", "topic": topic}, reply
        self.received: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        try:
            while True:
                message = json.loads(self._ws.receive_text())
                self.received[message.pop("topic")].append(message)
        except Exception:  # the socket closed: the benchmark is over
            return

    def count(self) -> int:
        return sum(len(messages) for messages in self.received.values())

    def close(self) -> None:
        self._context.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the offline model takes per call")
    parser.add_argument("--deadline", type=float, default=600.0)
    args = parser.parse_args()

    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)

    from starlette.testclient import TestClient

    from stratus.local.devserver import build_gateway
    from stratus.local.embedded import EmbeddedAws

    environment = {
        "EMBEDDING_PROVIDER": "hash",
        "SEARCH_BACKEND": "embedded",
        "SEARCH_INDEX_DIR": tempfile.mkdtemp(prefix="orchestrator-bench-"),
        "SIMULATED_MODEL_LATENCY_S": str(args.latency),
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    with EmbeddedAws(environment=environment) as aws, TestClient(build_gateway(aws.template)) as client:
        from stratus.identity import get_identity_service

        identity = get_identity_service()
        identity.ensure_tenant("bench")
        _, api_key = identity.issue_api_key("bench", "bench", roles=("admin",))
        headers = {"X-Api-Key": api_key}
        body = {
            "goal": GOAL,
            "inputs": [{"name": "pipeline.md", "content": NOTES}],
            "options": {"approvals": {"after_plan": True}},
        }

        # Given N tasks waiting at their plan approval, and one socket subscribed to all of them
        task_ids = []
        for _ in range(args.tasks):
            response = client.post("/orchestrator/tasks", json=body, headers=headers)
            assert response.status_code == 202, response.text
            task_ids.append(response.json()["task_id"])
        deadline = time.monotonic() + args.deadline

        def task(task_id: str) -> dict[str, Any]:
            payload: dict[str, Any] = client.get(f"/orchestrator/tasks/{task_id}", headers=headers).json()
            return payload

        while not all(task(t)["status"] == "awaiting_approval" for t in task_ids):
            assert time.monotonic() < deadline, "tasks never reached their plan approval"
            time.sleep(0.2)
        subscriber = Subscriber(client, api_key, task_ids)
        before = {t: task(t)["last_event_seq"] for t in task_ids}

        # When every plan is approved at once
        started = time.perf_counter()
        for task_id in task_ids:
            assert (
                client.post(
                    f"/orchestrator/tasks/{task_id}/interrupt", json={"action": "approve"}, headers=headers
                ).status_code
                == 200
            )
        finals = {}
        while len(finals) < len(task_ids):
            assert time.monotonic() < deadline, f"only {len(finals)} of {len(task_ids)} tasks finished"
            for task_id in task_ids:
                if task_id not in finals:
                    state = task(task_id)
                    if state["status"] in TERMINAL:
                        finals[task_id] = state
            time.sleep(0.1)
        wall_s = time.perf_counter() - started

        # Then every task succeeded, and the socket received exactly the stored events, in order
        stored = {
            t: client.get(f"/orchestrator/tasks/{t}/events", params={"limit": 500}, headers=headers).json()["items"]
            for t in task_ids
        }
        settle = time.monotonic() + 10
        expected = sum(len([e for e in events if e["seq"] > before[t]]) for t, events in stored.items())
        while subscriber.count() < expected and time.monotonic() < settle:
            time.sleep(0.05)
        subscriber.close()
        lost = duplicated = gaps = 0
        for task_id, events in stored.items():
            seqs = [event["seq"] for event in events]
            gaps += len(seqs) - len(set(seqs)) + (seqs != list(range(1, len(seqs) + 1)))
            live = subscriber.received.get(task_id, [])
            wanted = [event for event in events if event["seq"] > before[task_id]]
            live_seqs = [message["seq"] for message in live]
            duplicated += len(live_seqs) - len(set(live_seqs))
            lost += len({e["seq"] for e in wanted} - set(live_seqs))
            if live != wanted and not (lost or duplicated):
                gaps += 1  # same events, other order or content

        statuses = [state["status"] for state in finals.values()]
        steps: list[tuple[float, float]] = []
        critical_model_s = 0.0
        total_model_s = 0.0
        for events in stored.values():
            model_by_step: dict[str, float] = defaultdict(float)
            for event in events:
                if event["type"] == "agent.model_call":
                    model_by_step[event["step_id"]] += event["data"]["latency_ms"] / 1000
            started_at = {e["step_id"]: _at(e) for e in events if e["type"] == "step.started"}
            stage_model: dict[int, float] = defaultdict(float)
            for event in events:
                if event["type"] == "step.completed":
                    step_id = event["step_id"]
                    duration = _at(event) - started_at[step_id]
                    steps.append((duration, model_by_step[step_id]))
                    stage = int(step_id.split("-s", 1)[1].split("-", 1)[0])
                    stage_model[stage] = max(stage_model[stage], model_by_step[step_id])
            critical_model_s += sum(stage_model.values())
            total_model_s += sum(model_by_step.values())
        task_walls = [
            _at(next(e for e in events if e["type"] in ("task.succeeded", "task.failed")))
            - _at(next(e for e in events if e["type"] == "checkpoint.approved"))
            for events in stored.values()
        ]
        overheads = [duration - model for duration, model in steps]

        print(
            f"tasks: {len(task_ids)}  succeeded: {statuses.count('succeeded')}  other: "
            f"{[s for s in statuses if s != 'succeeded']}"
        )
        print(
            f"events stored: {sum(len(e) for e in stored.values())}  delivered live: {subscriber.count()}  "
            f"lost: {lost}  duplicated: {duplicated}  out of order or gaps: {gaps}"
        )
        print(f"agent steps: {len(steps)}  simulated model latency: {args.latency:.2f}s per call")
        print(
            f"step wall      p50 {statistics.median(s for s, _ in steps):6.2f}s  "
            f"p95 {_percentile([s for s, _ in steps], 0.95):6.2f}s"
        )
        print(
            f"step model     p50 {statistics.median(m for _, m in steps):6.2f}s  "
            f"p95 {_percentile([m for _, m in steps], 0.95):6.2f}s"
        )
        print(
            f"step overhead  p50 {statistics.median(overheads):6.2f}s  p95 {_percentile(overheads, 0.95):6.2f}s  "
            "(wall beyond model time: tools, DynamoDB, events, dispatch)"
        )
        per_task_overhead = (sum(task_walls) - critical_model_s) / len(task_walls)
        print(
            f"task wall      p50 {statistics.median(task_walls):6.2f}s  p95 {_percentile(task_walls, 0.95):6.2f}s  "
            f"critical-path model time {critical_model_s / len(task_walls):.2f}s  "
            f"overhead {per_task_overhead:.2f}s per task, {per_task_overhead * len(task_walls) / len(steps):.2f}s "
            "per step (boundaries included)"
        )
        print(
            f"all tasks      wall {wall_s:6.2f}s  sum of model time {total_model_s:6.2f}s  "
            f"ratio {total_model_s / wall_s:.2f}x (model seconds per wall second)"
        )
        if statuses.count("succeeded") != len(task_ids) or lost or duplicated or gaps:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
