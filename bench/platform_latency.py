"""The platform on the local stack: deploy latency, authenticated CRUD, sign-in cost, and a run, each beside a
baseline measured in the same run on the same embedded AWS.

- deploy (POST /platform/agents/{id}/deploy: read the draft, find the last version, put the version, move the
  alias) against one bare DynamoDB put of the same version item;
- authenticated read (GET /platform/agents/{id} with a JWT) against one bare DynamoDB get of the agent item;
- sign-in (POST /platform/auth/login) at the deployed argon2id cost against one argon2id verification alone;
- a synchronous run with the offline model (model time ~0), which includes recording its usage event.

Requests go through the dev gateway in-process (no network), as `make dev` serves them.

    .venv/bin/python bench/platform_latency.py [--deploys 100] [--reads 200] [--logins 10]

Not bench/platform.py: run by path, a script of that name would shadow the standard library's platform module.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
# A script run by path gets only bench/ on sys.path; the handlers and the layer live here.
sys.path[:0] = [str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT / "functions"), str(REPO_ROOT)]

PASSWORD = "correct horse battery staple"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _timed(times: int, action: Callable[[], Any]) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def _line(name: str, measured: list[float], baseline: list[float] | None = None, what: str = "") -> str:
    p50, p95 = statistics.median(measured), _percentile(measured, 0.95)
    text = f"  {name:<38} n={len(measured):<4} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms"
    if baseline:
        b50, b95 = statistics.median(baseline), _percentile(baseline, 0.95)
        text += f"   | {what}: p50 {b50:7.2f} ms p95 {b95:7.2f} ms   ratio p50 {p50 / b50:5.1f}x p95 {p95 / b95:5.1f}x"
    return text


def _ok(response: Any, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deploys", type=int, default=100)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--logins", type=int, default=10)
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from stratus.local.devserver import build_gateway
    from stratus.local.embedded import EmbeddedAws

    with tempfile.TemporaryDirectory() as scratch:
        environment = {"EMBEDDING_PROVIDER": "hash", "SEARCH_BACKEND": "embedded", "SEARCH_INDEX_DIR": scratch}
        with EmbeddedAws(environment=environment) as aws, TestClient(build_gateway(aws.template)) as client:
            from platform_.wiring import get_passwords
            from stratus.storage import tenant_key

            email = "bench@example.com"
            session = _ok(
                client.post(
                    "/platform/auth/register", json={"email": email, "password": PASSWORD, "tenant_name": "Bench"}
                ),
                201,
            )
            headers = {"Authorization": f"Bearer {session['access_token']}"}
            agent = _ok(
                client.post("/platform/agents", json={"name": "bench", "system_prompt": "Be brief."}, headers=headers),
                201,
            )
            path = f"/platform/agents/{agent['id']}"
            dynamodb = aws.client("dynamodb")
            table = aws.physical_name("PlatformTable")
            version_item = {
                "pk": {"S": tenant_key(session["tenant_id"], "AGENT", "baseline")},
                "sk": {"S": "V#00000001"},
                "config": {"S": '{"name": "bench", "system_prompt": "Be brief.", "tools": [], "limits": {}}'},
                "revision": {"N": "1"},
                "created_at": {"N": str(time.time())},
                "created_by": {"S": session["user_id"]},
            }
            agent_key = {"pk": {"S": tenant_key(session["tenant_id"], "AGENT")}, "sk": {"S": agent["id"]}}

            deploys = _timed(args.deploys, lambda: _ok(client.post(f"{path}/deploy", headers=headers), 201))
            puts = _timed(args.deploys, lambda: dynamodb.put_item(TableName=table, Item=version_item))
            reads = _timed(args.reads, lambda: _ok(client.get(path, headers=headers), 200))
            gets = _timed(args.reads, lambda: dynamodb.get_item(TableName=table, Key=agent_key, ConsistentRead=True))
            logins = _timed(
                args.logins,
                lambda: _ok(client.post("/platform/auth/login", json={"email": email, "password": PASSWORD}), 200),
            )
            passwords = get_passwords()
            stored = passwords.hash(PASSWORD)
            verifies = _timed(args.logins, lambda: passwords.verify(stored, PASSWORD))
            runs = _timed(20, lambda: _ok(client.post(f"{path}/run", json={"input": "hi"}, headers=headers), 201))

            print("platform on the embedded local stack (in-process gateway, 2 shared cores)")
            print(_line("deploy (new version + alias)", deploys, puts, "bare put_item"))
            print(_line("GET agent with a JWT", reads, gets, "bare get_item"))
            print(_line(f"login ({passwords.parameters})", logins, verifies, "argon2id verify"))
            print(_line("run, offline model, usage recorded", runs))
            versions = _ok(client.get(f"{path}/versions", params={"limit": 1}, headers=headers), 200)
            print(f"  versions made: {versions['items'][0]['version']}  (target: deploy < 1 s locally; seed: < 30 s)")


if __name__ == "__main__":
    main()
