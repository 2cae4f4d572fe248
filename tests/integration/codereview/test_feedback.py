"""The feedback loop: outcomes from follow-up events, acceptance analytics, and what repeated rejections change."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.codereview.conftest import (
    Hooked,
    Tenant,
    deliver,
    example_payload,
    pull_request_payload,
    register_repository,
    retarget,
    review_detail,
    settle,
)
from tests.integration.codereview.fake_github import FakeGitHub, FakePull

_reply_ids = itertools.count(900_000_001)

V0 = "def total(items):\n    return sum(items)\n"
V1 = """\
def total(items):
    return sum(items)


def average(items, cache={}):
    print("averaging", len(items))
    if items is "":
        return 0
    try:
        return total(items) / len(items)
    except:
        return None
"""
# The author fixes the print line only.
V2 = V1.replace('    print("averaging", len(items))', '    log.debug("averaging %d", len(items))')


def comment_for(pull_review: Any, rule: str) -> dict[str, Any]:
    return next(c for c in pull_review.comments if f"`{rule}`" in c["body"])


def thread_resolved(pull: FakePull, comment: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(example_payload("pull_request_review_thread", "resolved.payload.json"))
    retarget(payload, pull)
    root = payload["thread"]["comments"][0]
    root.update(id=comment["id"], path=comment["path"], line=comment["line"], body=comment["body"])
    payload["thread"]["comments"] = [root]
    return payload


def reply_to(pull: FakePull, comment: dict[str, Any], text: str) -> dict[str, Any]:
    payload = copy.deepcopy(example_payload("pull_request_review_comment", "created.payload.json"))
    retarget(payload, pull)
    payload["comment"].update(id=next(_reply_ids), in_reply_to_id=comment["id"], body=text, path=comment["path"])
    return payload


def merged(pull: FakePull) -> dict[str, Any]:
    pull.state, pull.merged = "closed", True
    return pull_request_payload("closed", pull)


def test_acceptance_is_computed_from_what_happens_after_the_review(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given a review with four suggestions: print, mutable default (B006), `is ""` (F632), bare except
    hooked = register_repository(client, github, tenant)
    pull = hooked.repo.open_pull(20, {"stats.py": V0}, {"stats.py": V1})
    deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)
    (review,) = github.reviews_of(hooked.full_name, 20)
    assert sorted(c["body"].split("`")[1] for c in review.comments) == [
        "B006",
        "F632",
        "bare-except",
        "debug-print",
    ]

    # When the author changes the print line (synchronize) ...
    before = pull.head.sha
    pull.push({"stats.py": V2})
    deliver(client, hooked, "pull_request", pull_request_payload("synchronize", pull, before=before))
    # ... someone reacts 👎 to the mutable-default comment and replies to it ...
    mutable = comment_for(review, "B006")
    github.react(mutable["id"], "-1")
    deliver(client, hooked, "pull_request_review_comment", reply_to(pull, mutable, "We never mutate it."))
    # ... the `is ""` thread is resolved without any change ...
    deliver(client, hooked, "pull_request_review_thread", thread_resolved(pull, comment_for(review, "F632")))
    # ... and the bare-except comment gets a 👍 before the pull request is merged
    github.react(comment_for(review, "bare-except")["id"], "+1")
    deliver(client, hooked, "pull_request", merged(pull))
    settle(aws)

    # Then each suggestion has the outcome its follow-up implies
    detail = review_detail(client, tenant, pull.id)
    outcomes = {f["rule"]: (f["outcome"], f["outcome_reason"]) for f in detail["findings"] if f["status"] == "posted"}
    assert outcomes == {
        "debug-print": ("accepted", "a later commit changed the commented line"),
        "B006": ("rejected", "👎 on the comment (1)"),
        "F632": ("rejected", "thread resolved without a change"),
        "bare-except": ("accepted", "👍 on the comment (1)"),
    }
    assert detail["state"] == "merged"

    # And the analytics show a 50% acceptance rate, broken down by category and severity
    analytics = client.get(
        "/codereview/analytics/suggestions", params={"repo": hooked.full_name}, headers=tenant.headers
    ).json()
    assert analytics["totals"] == {
        "key": "all",
        "posted": 4,
        "accepted": 2,
        "rejected": 2,
        "pending": 0,
        "acceptance_rate": 0.5,
    }
    by_category = {row["key"]: (row["accepted"], row["rejected"]) for row in analytics["by_category"]}
    assert by_category == {"bug": (0, 2), "error-handling": (1, 0), "style": (1, 0)}
    assert [row["key"] for row in analytics["by_repository"]] == [hooked.full_name.lower()]
    assert {row["key"] for row in analytics["by_severity"]} == {"low", "medium"}
    assert len(analytics["by_week"]) == 1 and analytics["by_week"][0]["key"].count("-W") == 1


def open_reviewed_pull(client: TestClient, hooked: Hooked, aws: EmbeddedAws, number: int, source: str) -> FakePull:
    pull = hooked.repo.open_pull(
        number, {"README.md": "# tool\n"}, {"README.md": "# tool\n", f"tool_{number}.py": source}
    )
    deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)
    return pull


def test_repeated_rejections_suppress_a_rule_and_the_next_review_says_why(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given three pull requests whose leftover print() comments were each turned down and merged unchanged
    hooked = register_repository(client, github, tenant)
    for number in (31, 32, 33):
        pull = open_reviewed_pull(client, hooked, aws, number, f'def run_{number}():\n    print("step {number}")\n')
        (review,) = github.reviews_of(hooked.full_name, number)
        assert [c["body"].split("`")[1] for c in review.comments] == ["debug-print"]
        github.react(review.comments[0]["id"], "-1")
        deliver(client, hooked, "pull_request", merged(pull))
        settle(aws)

    # When a fourth pull request has a print() and a real problem
    fourth = open_reviewed_pull(
        client, hooked, aws, 34, 'def run_34(items=[]):\n    print("step 34")\n    return items\n'
    )

    # Then its review comments on the real problem only
    (review,) = github.reviews_of(hooked.full_name, 34)
    assert [c["body"].split("`")[1] for c in review.comments] == ["B006"]
    assert "1 finding(s) not posted because of this repository's feedback" in review.body
    # And the review record says which finding was suppressed, why, and which preferences the run applied
    detail = review_detail(client, tenant, fourth.id)
    suppressed = [f for f in detail["findings"] if f["status"] == "suppressed"]
    assert [(f["rule"], f["reason"]) for f in suppressed] == [
        ("debug-print", "style/debug-print was rejected 3 of 3 times")
    ]
    assert detail["runs"][0]["preferences"]["suppressed_patterns"] == {"style/debug-print": "rejected 3 of 3 times"}

    # And another repository of the same tenant still hears about its print() calls
    other = register_repository(client, github, tenant)
    open_reviewed_pull(client, other, aws, 35, 'def run():\n    print("x")\n')
    (elsewhere,) = github.reviews_of(other.full_name, 35)
    assert [c["body"].split("`")[1] for c in elsewhere.comments] == ["debug-print"]
