"""codereview on the local stack: webhook → review posted for a 300-line pull request, and webhook ack latency.

    .venv/bin/python bench/codereview_latency.py [--runs 3] [--deliveries 200] [--latency 2.0]

The local stack is what ``make dev`` runs: moto in server mode with every resource of template.yaml, the
dev gateway served by uvicorn on 127.0.0.1, the SQS poller thread, Step Functions executing the real ASL.
GitHub is the fake GitHub of the tests, over real HTTP. Figures:

- webhook → review posted (the fake GitHub records the review), for a 300-line PR of three Python files,
  with the offline model, then with a simulated model latency per model call (``SIMULATED_MODEL_LATENCY_S``;
  the logic and the security stage each call the model once per diff chunk). Seed target 2 min, ours 30 s.
- webhook acknowledgement over HTTP (signature, registration lookup, delivery record, SQS send):
  p50/p95/max over ``--deliveries`` distinct deliveries, after 5 warm-up ones. Target p95 < 100 ms.
  CPU time is printed next to wall time: the machine may be shared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
if importlib.util.find_spec("stratus") is None:  # run as a plain script, without `make`'s PYTHONPATH
    sys.path[:0] = [str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT / "functions"), str(REPO_ROOT)]

TARGET_REVIEW_S = 30.0
TARGET_ACK_P95_MS = 100.0
WARM_UP = 5


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def module_source(index: int, lines: int = 100) -> str:
    """A plausible 100-line Python module: data classes, parsing, I/O, with a few problems a reviewer flags."""
    body = [
        f'"""Orders service, part {index}."""',
        "",
        "import json",
        "import logging",
        "import pickle",
        "from dataclasses import dataclass",
        "",
        "log = logging.getLogger(__name__)",
        "",
    ]
    function = 0
    while len(body) < lines - 12:
        function += 1
        body += [
            "",
            "@dataclass",
            f"class Order{index}x{function}:",
            "    order_id: str",
            "    amount_cents: int",
            "    currency: str = 'EUR'",
            "",
            f"def parse_order_{index}_{function}(raw, seen=[]):",
            "    data = json.loads(raw)",
            "    if data.get('currency') is 'EUR':",
            "        seen.append(data['order_id'])",
            f"    print('parsed', {function}, data)",
            f"    return Order{index}x{function}(data['order_id'], int(data['amount_cents']))",
        ]
    body += [
        "",
        "",
        f"def restore_{index}(blob):",
        "    try:",
        "        return pickle.loads(blob)",
        "    except:",
        "        log.warning('could not restore')",
        "        return None",
    ]
    while len(body) < lines:
        body.append(f"# end of part {index}")
    return "\n".join(body[:lines]) + "\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalStack:
    def __init__(self) -> None:
        from tests.integration.codereview.fake_github import FakeGitHub

        self.github = FakeGitHub().start()
        self.aws: Any = None
        self.base = ""
        self._server: Any = None

    def start(self) -> LocalStack:
        import logging

        import uvicorn

        from stratus.identity import get_identity_service
        from stratus.local.devserver import build_gateway
        from stratus.local.embedded import EmbeddedAws, local_provider_environment

        logging.getLogger("stratus.local").setLevel(logging.ERROR)
        environment = {
            **local_provider_environment(),
            "EMBEDDING_PROVIDER": "hash",
            "CODEREVIEW_GITHUB_API_URL": self.github.url,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        self.aws = EmbeddedAws(server=True, environment=environment).start()
        self.api_key = get_identity_service().bootstrap_dev_tenant("bench")
        port = free_port()
        config = uvicorn.Config(build_gateway(self.aws.template), host="127.0.0.1", port=port, log_level="error")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, name="uvicorn", daemon=True).start()
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self.aws is not None:
            self.aws.stop()
        self.github.stop()


def register(stack: LocalStack, http: Any, name: str, repo_id: int) -> tuple[Any, str]:
    repo = stack.github.add_repository(name, repo_id)
    token = stack.github.add_token(f"ghp_{uuid.uuid4().hex}")
    secret = f"bench-secret-{uuid.uuid4().hex}"
    response = http.post(
        f"{stack.base}/codereview/installations",
        headers={"X-Api-Key": stack.api_key},
        json={
            "kind": "repository",
            "repository": name,
            "repository_id": repo_id,
            "webhook_secret": secret,
            "github_token": token,
        },
    )
    response.raise_for_status()
    return repo, secret


def opened_delivery(repo: Any, pull: Any, secret: str, delivery: str) -> tuple[bytes, dict[str, str]]:
    from stratus.github.webhooks import sign_payload
    from tests.integration.codereview.conftest import example_payload, retarget

    payload = example_payload("pull_request", "opened.payload.json")
    retarget(payload, pull)
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-GitHub-Hook-Installation-Target-ID": str(repo.id),
        "X-Hub-Signature-256": sign_payload(secret, body),
    }
    return body, headers


def review_time(
    stack: LocalStack, http: Any, repo: Any, secret: str, number: int, timeout_s: float = 180
) -> tuple[float, int]:
    files = {f"orders/part_{i}.py": module_source(i) for i in range(1, 4)}
    pull = repo.open_pull(number, {"README.md": "# orders\n"}, {"README.md": "# orders\n", **files}, title="Orders")
    body, headers = opened_delivery(repo, pull, secret, str(uuid.uuid4()))
    started = time.perf_counter()
    response = http.post(f"{stack.base}/codereview/webhooks/github", content=body, headers=headers)
    assert response.status_code == 202, response.text
    reviews = stack.github.wait_for_reviews(repo.full_name, number, 1, timeout_s=timeout_s)
    elapsed = time.perf_counter() - started
    return elapsed, len(reviews[0].comments)


def ack_latency(stack: LocalStack, http: Any, repo: Any, secret: str, deliveries: int) -> tuple[list[float], float]:
    pull = repo.open_pull(9999, {"a.py": "a = 1\n"}, {"a.py": "a = 2\n"})
    wall: list[float] = []
    cpu_started = time.process_time()
    for index in range(WARM_UP + deliveries):
        body, headers = opened_delivery(repo, pull, secret, str(uuid.uuid4()))
        started = time.perf_counter()
        response = http.post(f"{stack.base}/codereview/webhooks/github", content=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 202, response.text
        if index >= WARM_UP:
            wall.append(elapsed)
    cpu_per_delivery = (time.process_time() - cpu_started) * 1000 / (WARM_UP + deliveries)
    return wall, cpu_per_delivery


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="reviews per configuration")
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--latency", type=float, default=2.0, help="simulated seconds per model call")
    args = parser.parse_args(argv)

    import httpx

    from stratus.cache import reset_containers

    started = time.perf_counter()
    stack = LocalStack().start()
    print(f"local stack up in {time.perf_counter() - started:.1f} s (moto server, uvicorn at {stack.base})")
    try:
        with httpx.Client(timeout=30) as http:
            repo, secret = register(stack, http, "bench-org/orders", 424_242)

            # Ack latency first, with the queue poller stopped: only the acknowledgement is measured.
            wall, cpu = ack_latency(stack, http, repo, secret, args.deliveries)
            p95 = percentile(wall, 0.95)
            print(
                f"webhook ack over HTTP, {args.deliveries} deliveries: p50 {statistics.median(wall):.1f} ms, "
                f"p95 {p95:.1f} ms, max {max(wall):.1f} ms (process CPU {cpu:.1f} ms/delivery) "
                f"- target p95 < {TARGET_ACK_P95_MS:.0f} ms: {'met' if p95 < TARGET_ACK_P95_MS else 'NOT met'}"
            )
            queue_url = stack.aws.template.names.queue_url("CodeReviewDeliveryQueue")
            stack.aws.client("sqs").purge_queue(QueueUrl=queue_url)
            stack.aws.event_sources.start()

            cold, comments = review_time(stack, http, repo, secret, 1)
            print(
                f"webhook → review posted, first review after start (cold worker and steps: imports, tokenizer, "
                f"ruff): {cold:.1f} s ({comments} inline comments)"
            )
            number = 2
            configurations = (
                ("offline model", 0.0),
                (f"offline model + {args.latency:g} s per model call", args.latency),
            )
            for label, latency in configurations:
                os.environ["SIMULATED_MODEL_LATENCY_S"] = str(latency)
                reset_containers()  # a new model configuration: what a redeploy with the new setting gives
                times = []
                for _ in range(args.runs):
                    elapsed, comments = review_time(stack, http, repo, secret, number)
                    number += 1
                    times.append(elapsed)
                print(
                    f"webhook → review posted, 300-line PR (3 files), {label}: "
                    f"median {statistics.median(times):.1f} s, min {min(times):.1f} s, max {max(times):.1f} s over "
                    f"{len(times)} runs ({comments} inline comments) - target < {TARGET_REVIEW_S:.0f} s: "
                    f"{'met' if max(times) < TARGET_REVIEW_S else 'NOT met'}"
                )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
