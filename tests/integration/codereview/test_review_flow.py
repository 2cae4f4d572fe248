"""Pull requests reviewed end to end: webhook → SQS → worker → Step Functions (real ASL) → the fake GitHub."""

from __future__ import annotations

import copy

from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.codereview.conftest import (
    Hooked,
    Tenant,
    deliver,
    example_payload,
    github_data,
    pull_request_payload,
    register_repository,
    retarget,
    review_detail,
    settle,
)
from tests.integration.codereview.fake_github import FakeGitHub

SERVICE_V0 = """\
import json


def load(path):
    with open(path) as handle:
        return json.load(handle)
"""

SERVICE_V1 = """\
import json


def load(path):
    with open(path) as handle:
        return json.load(handle)


def parse(text):
    print("parsing", text)
    try:
        return json.loads(text)
    except:
        return None
"""

SERVICE_V2 = """\
import json
import pickle


def load(path):
    with open(path) as handle:
        return json.load(handle)


def parse(text):
    try:
        return json.loads(text)
    except:
        return None


def restore(blob):
    return pickle.loads(blob)
"""


def rules_of(review: object) -> list[str]:
    return [c["body"].split("`")[1] for c in review.comments]  # type: ignore[attr-defined]


def test_opened_then_synchronize_comments_only_on_what_is_new(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given a pull request that adds a parse() with a leftover print and a bare except
    hooked = register_repository(client, github, tenant)
    pull = hooked.repo.open_pull(10, {"svc/store.py": SERVICE_V0}, {"svc/store.py": SERVICE_V1}, title="Parse input")
    deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)
    first_head = pull.head.sha

    # When the author removes the print and adds restore() with pickle, and GitHub sends synchronize
    pull.push({"svc/store.py": SERVICE_V2})
    deliver(client, hooked, "pull_request", pull_request_payload("synchronize", pull, before=first_head))
    settle(aws)

    # Then the first review commented on the print and the bare except
    first, second = github.reviews_of(hooked.full_name, 10)
    assert sorted(rules_of(first)) == ["bare-except", "debug-print"]
    assert first.commit_id == first_head
    # And the second review only on the new pickle call: the bare except is never posted again
    assert rules_of(second) == ["deserialization/pickle"]
    assert second.commit_id == pull.head.sha
    assert f"changes since {first_head[:7]}" in second.body
    assert github.rejected == []

    # And GET /reviews/{pr_id} shows both runs, every posted comment id, and the print as accepted (line changed)
    detail = review_detail(client, tenant, pull.id)
    assert detail["state"] == "posted"
    assert detail["last_reviewed_sha"] == pull.head.sha
    assert [run["status"] for run in detail["runs"]] == ["posted", "posted"]
    assert set(detail["runs"][1]["stages"]) == {"syntax", "logic", "security"}
    assert all(run["duration_s"] is not None for run in detail["runs"])
    posted_ids = {c["id"] for review in (first, second) for c in review.comments}
    assert set(detail["posted_comment_ids"]) == posted_ids
    outcomes = {f["rule"]: (f["outcome"], f["outcome_reason"]) for f in detail["findings"] if f["status"] == "posted"}
    assert outcomes["debug-print"] == ("accepted", "a later commit changed the commented line")
    assert outcomes["bare-except"] == ("pending", None)
    offline = {f["rule"]: f["offline"] for f in detail["findings"]}
    assert offline["bare-except"] is True and offline["deserialization/pickle"] is False


def test_deleted_renamed_binary_and_lock_files(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given a pull request that deletes a file, renames one with a change, adds a PNG and touches a lock file
    hooked = register_repository(client, github, tenant)
    base = {
        "tools/legacy.py": "def old():\n    return 1\n",
        "tools/calc.py": "def add(a, b):\n    return a + b\n",
        "package-lock.json": '{"lockfileVersion": 3}\n',
    }
    head: dict[str, str | bytes] = {
        "tools/arith.py": "def add(a, b):\n    return a + b\n\n\ndef evaluate(expr):\n    return eval(expr)\n",
        "docs/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        "package-lock.json": '{"lockfileVersion": 3, "packages": {}}\n',
    }
    pull = hooked.repo.open_pull(11, base, head, renames={"tools/arith.py": "tools/calc.py"})

    # When it is opened
    deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)

    # Then the one review comments on the renamed file under its new name, and names what it skipped
    (review,) = github.reviews_of(hooked.full_name, 11)
    assert [(c["path"], c["line"]) for c in review.comments] == [("tools/arith.py", 6)]
    assert "injection/eval" in review.comments[0]["body"]
    assert "`docs/logo.png` (binary)" in review.body
    assert "`package-lock.json` (lock file)" in review.body
    assert "`tools/legacy.py` (deleted)" in review.body
    assert github.rejected == []
    skipped = {s["path"]: s["reason"] for s in review_detail(client, tenant, pull.id)["runs"][0]["skipped_files"]}
    assert skipped == {"docs/logo.png": "binary", "package-lock.json": "lock file", "tools/legacy.py": "deleted"}


def test_a_real_pull_request_diff_is_reviewed_and_labelled_offline(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given castorini/anserini#2174 (pom.xml and two Java files), as GitHub would serve it
    hooked = register_repository(client, github, tenant)
    diff = github_data("diffs/anserini-pr2174-korean-analyzer.diff").read_text()
    pull = hooked.repo.pull_from_diff(2174, diff, title="Use KoreanAnalyzer for Korean language (ko)")

    # When it is opened
    deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)

    # Then the review says there is nothing to fix and that no language model was used
    (review,) = github.reviews_of(hooked.full_name, 2174)
    assert review.comments == []
    assert "No new findings" in review.body
    assert "deterministic heuristics, not a language model" in review.body
    stages = review_detail(client, tenant, pull.id)["runs"][0]["stages"]
    assert stages["logic"]["offline"] is True and stages["logic"]["model"] == "stratus-offline-extractive"


def test_a_rate_limited_review_post_is_waited_out_not_failed(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given GitHub answers the first review post with 429 Retry-After: 1 (waited in the Lambda),
    # and the second pull request's with Retry-After: 2 (longer than the 1.5 s allowed: waited in the workflow)
    hooked = register_repository(client, github, tenant)
    short = hooked.repo.open_pull(12, {"a.py": "x = 1\n"}, {"a.py": "x = 1\nprint(x)\n"})
    long = hooked.repo.open_pull(13, {"b.py": "y = 1\n"}, {"b.py": "y = 1\nprint(y)\n"})
    github.limit("POST", rf"/repos/{hooked.full_name}/pulls/12/reviews$", times=1, status=429, retry_after="1")
    github.limit("POST", rf"/repos/{hooked.full_name}/pulls/13/reviews$", times=1, status=403, retry_after="2")

    # When both are opened
    deliver(client, hooked, "pull_request", pull_request_payload("opened", short))
    deliver(client, hooked, "pull_request", pull_request_payload("opened", long))
    settle(aws)

    # Then each review was posted exactly once, after GitHub's wait
    for number, wait in ((12, 1.0), (13, 2.0)):
        assert len(github.reviews_of(hooked.full_name, number)) == 1
        attempts = [
            (status, at)
            for method, path, status, at in github.requests
            if method == "POST" and path.endswith(f"/pulls/{number}/reviews")
        ]
        assert [status for status, _ in attempts] == [429 if number == 12 else 403, 200]
        assert attempts[1][1] - attempts[0][1] >= wait - 0.05
    assert review_detail(client, tenant, long.id)["state"] == "posted"


def test_hold_mode_drafts_the_review_until_a_maintainer_approves_it(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given a repository whose rules hold reviews for approval
    hooked = register_repository(client, github, tenant)
    rules = {"repository": hooked.full_name, "mode": "hold", "severity_threshold": "medium"}
    assert client.post("/codereview/settings/rules", headers=tenant.admin_headers, json=rules).status_code == 200
    pull = hooked.repo.open_pull(14, {"svc/store.py": SERVICE_V0}, {"svc/store.py": SERVICE_V1})

    # When the pull request is opened
    deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)

    # Then nothing is on GitHub yet: the draft waits, with its findings held
    assert github.reviews_of(hooked.full_name, 14) == []
    detail = review_detail(client, tenant, pull.id)
    assert detail["state"] == "held"
    held = [f for f in detail["findings"] if f["status"] == "held"]
    assert [f["rule"] for f in held] == ["bare-except"]  # the low-severity print is below the threshold

    # When a maintainer approves it
    approved = client.post(f"/codereview/reviews/{pull.id}/approve", headers=tenant.headers)

    # Then the drafted review is posted, once
    assert approved.status_code == 200, approved.text
    (review,) = github.reviews_of(hooked.full_name, 14)
    assert approved.json() == {"status": "posted", "review_id": review.id, "comments": 1}
    assert rules_of(review) == ["bare-except"]
    assert review_detail(client, tenant, pull.id)["state"] == "posted"
    again = client.post(f"/codereview/reviews/{pull.id}/approve", headers=tenant.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_a_review_command_re_reviews_the_whole_pull_request_without_repeating_comments(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given a reviewed pull request
    hooked = register_repository(client, github, tenant)
    pull = hooked.repo.open_pull(15, {"svc/store.py": SERVICE_V0}, {"svc/store.py": SERVICE_V1})
    deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)

    # When someone comments "/review" on it (GitHub's issue_comment delivery for a pull request)
    payload = copy.deepcopy(example_payload("issue_comment", "created.payload.json"))
    retarget(payload, pull)
    payload["issue"]["number"] = pull.number
    payload["issue"]["pull_request"] = {"url": f"https://api.github.com/repos/{hooked.full_name}/pulls/{pull.number}"}
    payload["comment"]["body"] = "/review"
    response = deliver(client, hooked, "issue_comment", payload)
    settle(aws)

    # Then a second review says there is nothing new: no comment is repeated
    assert response.status_code == 202
    first, second = github.reviews_of(hooked.full_name, 15)
    assert len(first.comments) == 2
    assert second.comments == []
    assert "No new findings" in second.body and "the whole pull request" in second.body


def test_a_review_that_cannot_reach_github_fails_with_a_clear_reason(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given a repository registered without a GitHub token (and no CODEREVIEW_GITHUB_TOKEN on this stack)
    repo = github.add_repository("octo-org/tokenless", 777_000_001)
    secret = "tokenless-webhook-secret-01"
    registered = client.post(
        "/codereview/installations",
        headers=tenant.admin_headers,
        json={"kind": "repository", "repository": repo.full_name, "repository_id": repo.id, "webhook_secret": secret},
    )
    assert registered.status_code == 201 and registered.json()["has_token"] is False
    pull = repo.open_pull(1, {"a.py": "a = 1\n"}, {"a.py": "a = 2\n"})

    # When the pull request is opened
    deliver(client, Hooked(tenant, repo, secret, ""), "pull_request", pull_request_payload("opened", pull))
    settle(aws)

    # Then the review is marked failed and says why
    detail = review_detail(client, tenant, pull.id)
    assert detail["state"] == "failed"
    assert "has no GitHub token" in detail["runs"][0]["error"]
    assert github.reviews_of(repo.full_name, 1) == []


def test_rules_turn_stages_off_and_ignore_paths(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given rules without the security stage, ignoring generated fixtures
    hooked = register_repository(client, github, tenant)
    rules = {"repository": hooked.full_name, "stages": {"security": False}, "ignored_paths": ["tests/fixtures/**"]}
    assert client.post("/codereview/settings/rules", headers=tenant.admin_headers, json=rules).status_code == 200
    head = {
        "svc/load.py": "import pickle\n\n\ndef load(blob):\n    print(blob)\n    return pickle.loads(blob)\n",
        "tests/fixtures/sample.py": "def f(x=[]):\n    print(x)\n",
    }
    pull = hooked.repo.open_pull(16, {}, head)

    # When it is opened
    deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)

    # Then the pickle call is not flagged (security off), the print is, and the fixture was never read
    (review,) = github.reviews_of(hooked.full_name, 16)
    assert [(c["path"], rules_of_comment(c)) for c in review.comments] == [("svc/load.py", "debug-print")]
    assert "`tests/fixtures/sample.py` (ignored by the rule 'tests/fixtures/**')" in review.body
    stages = review_detail(client, tenant, pull.id)["runs"][0]["stages"]
    assert stages["security"]["status"] == "disabled"


def rules_of_comment(comment: dict[str, object]) -> str:
    return str(comment["body"]).split("`")[1]
