"""The authenticated API: rules, registrations (repository hooks and GitHub Apps), listing, tenant isolation."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.codereview.conftest import (
    Hooked,
    Tenant,
    deliver,
    new_tenant,
    pull_request_payload,
    register_repository,
    settle,
)
from tests.integration.codereview.fake_github import FakeGitHub

RULES: dict[str, Any] = {
    "repository": "Octo-Org/Payments",
    "stages": {"syntax": True, "logic": False, "security": True},
    "severity_threshold": "medium",
    "ignored_paths": ["docs/**", "*.snap"],
    "custom_instructions": "Money is in integer cents.",
    "max_comments": 10,
    "mode": "hold",
}


def test_rules_are_stored_per_repository_and_bad_ones_change_nothing(client: TestClient, tenant: Tenant) -> None:
    # Given rules for a repository
    created = client.post("/codereview/settings/rules", headers=tenant.admin_headers, json=RULES)
    assert created.status_code == 200, created.text

    # When rules with an invalid glob, then with an invalid threshold, are posted for it
    bad_glob = client.post(
        "/codereview/settings/rules", headers=tenant.admin_headers, json={**RULES, "ignored_paths": ["docs/[unclosed"]}
    )
    bad_threshold = client.post(
        "/codereview/settings/rules", headers=tenant.admin_headers, json={**RULES, "severity_threshold": "urgent"}
    )

    # Then both are 422 problem+json naming the field, and the stored rules are unchanged
    assert bad_glob.status_code == 422 and bad_glob.headers["content-type"] == "application/problem+json"
    assert bad_glob.json()["errors"][0]["field"] == "ignored_paths"
    assert "never closed" in bad_glob.json()["errors"][0]["message"]
    assert bad_threshold.status_code == 422
    assert bad_threshold.json()["errors"][0]["field"] == "severity_threshold"
    stored = client.get(
        "/codereview/settings/rules", params={"repository": "octo-org/payments"}, headers=tenant.headers
    ).json()["items"]
    assert [(s["configured"], s["rules"]) for s in stored] == [(True, RULES)]

    # And a repository without rules gets the defaults; another tenant sees none of these rules
    defaults = client.get("/codereview/settings/rules", params={"repository": "octo-org/web"}, headers=tenant.headers)
    assert defaults.json()["items"][0]["configured"] is False
    assert defaults.json()["items"][0]["rules"]["mode"] == "auto"
    other = new_tenant("other")
    assert client.get("/codereview/settings/rules", headers=other.headers).json()["items"] == []
    assert client.get("/codereview/settings/rules", headers={}).status_code == 401


def test_registrations_never_show_secrets_and_a_deleted_one_stops_reviews(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    hooked = register_repository(client, github, tenant)
    registration_id = f"repo-{hooked.repo.id}"

    listed = client.get("/codereview/installations", headers=tenant.headers)
    one = client.get(f"/codereview/installations/{registration_id}", headers=tenant.headers)
    assert [r["id"] for r in listed.json()["items"]] == [registration_id]
    assert one.json()["hook_target"] == f"repository#{hooked.repo.id}" and one.json()["has_token"] is True
    assert hooked.secret not in listed.text + one.text and hooked.token not in listed.text + one.text
    assert client.get(f"/codereview/installations/{registration_id}", headers=new_tenant().headers).status_code == 404

    # Posting the same repository again rotates the secret: the old one stops working
    rotated = client.post(
        "/codereview/installations",
        headers=tenant.admin_headers,
        json={
            "kind": "repository",
            "repository": hooked.full_name,
            "repository_id": hooked.repo.id,
            "webhook_secret": "rotated-secret-0123456789",
            "github_token": hooked.token,
        },
    )
    assert rotated.status_code == 200
    pull = hooked.repo.open_pull(40, {"a.py": "a = 1\n"}, {"a.py": "a = 1\nprint(a)\n"})
    assert deliver(client, hooked, "pull_request", pull_request_payload("opened", pull)).status_code == 401
    hooked.secret = "rotated-secret-0123456789"
    assert deliver(client, hooked, "pull_request", pull_request_payload("opened", pull)).status_code == 202

    # Deleting it: later deliveries are acknowledged and ignored
    deleted = client.delete(f"/codereview/installations/{registration_id}", headers=tenant.admin_headers)
    assert deleted.status_code == 204
    ignored = deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    assert ignored.status_code == 202 and ignored.json()["status"] == "ignored"
    assert client.get("/codereview/installations", headers=tenant.headers).json()["items"] == []


def test_bad_registrations_are_422(client: TestClient, tenant: Tenant) -> None:
    short_secret = {"kind": "repository", "repository": "o/r", "repository_id": 1, "webhook_secret": "short"}
    not_pem = {"kind": "app", "app_id": 1, "webhook_secret": "x" * 20, "private_key": "not a key"}
    unknown_kind = {"kind": "organization", "webhook_secret": "x" * 20}

    for body in (short_secret, not_pem, unknown_kind):
        response = client.post("/codereview/installations", headers=tenant.admin_headers, json=body)
        assert response.status_code == 422, body


def test_reviews_are_listed_by_repository_and_state_and_hidden_from_other_tenants(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given two repositories with a reviewed pull request each, one of them in hold mode
    posted = register_repository(client, github, tenant)
    held = register_repository(client, github, tenant)
    client.post(
        "/codereview/settings/rules", headers=tenant.admin_headers, json={"repository": held.full_name, "mode": "hold"}
    )
    change = ({"m.py": "v = 1\n"}, {"m.py": "v = 1\n\n\ndef f(x=[]):\n    return x\n"})
    first = posted.repo.open_pull(41, *change)
    second = held.repo.open_pull(42, *change)
    for hooked, pull in ((posted, first), (held, second)):
        deliver(client, hooked, "pull_request", pull_request_payload("opened", pull))
    settle(aws)

    def listed(**params: str) -> list[tuple[str, int, str]]:
        items = client.get("/codereview/reviews", params=params, headers=tenant.headers).json()["items"]
        return sorted((i["repository"], i["number"], i["state"]) for i in items)

    # Then filters select what the user asked for
    assert listed() == [(posted.full_name, 41, "posted"), (held.full_name, 42, "held")]
    assert listed(repo=held.full_name.upper()) == [(held.full_name, 42, "held")]
    assert listed(state="posted") == [(posted.full_name, 41, "posted")]
    assert client.get("/codereview/reviews", params={"state": "nonsense"}, headers=tenant.headers).status_code == 422
    page = client.get("/codereview/reviews", params={"limit": 1}, headers=tenant.headers).json()
    assert len(page["items"]) == 1 and page["next_cursor"]

    # And another tenant can neither see nor approve them
    other = new_tenant("other")
    assert client.get("/codereview/reviews", headers=other.headers).json()["items"] == []
    assert client.get(f"/codereview/reviews/{second.id}", headers=other.headers).status_code == 404
    assert client.post(f"/codereview/reviews/{second.id}/approve", headers=other.headers).status_code == 404
    assert client.get("/codereview/reviews/123456", headers=tenant.headers).status_code == 404


def _app_keys() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_a_github_app_reviews_with_installation_tokens(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant
) -> None:
    # Given the tenant's own GitHub App, registered with its webhook secret and private key
    private_pem, public_pem = _app_keys()
    app_id, installation_id = 880_001, 55_001
    github.add_app(app_id, public_pem)
    secret = "app-webhook-secret-0123456789"
    registered = client.post(
        "/codereview/installations",
        headers=tenant.admin_headers,
        json={"kind": "app", "app_id": app_id, "webhook_secret": secret, "private_key": private_pem},
    )
    assert registered.status_code == 201 and registered.json()["hook_target"] == f"app#{app_id}"
    repo = github.add_repository("app-org/api", 880_100)
    hooked = Hooked(tenant, repo, secret, "")
    as_app = ("integration", str(app_id))

    # When GitHub reports the installation, then two pull requests opened on an installed repository
    installation = {
        "action": "created",
        "installation": {"id": installation_id, "account": {"login": "app-org"}, "app_id": app_id},
        "repositories": [{"id": repo.id, "full_name": repo.full_name}],
        "sender": {"login": "octocat"},
    }
    assert deliver(client, hooked, "installation", installation, target=as_app).status_code == 202
    pulls = [repo.open_pull(n, {"a.py": "a = 1\n"}, {"a.py": "a = 1\nprint(a)\n"}) for n in (1, 2)]
    for pull in pulls:
        payload = pull_request_payload("opened", pull, installation_id=installation_id)
        assert deliver(client, hooked, "pull_request", payload, target=as_app).status_code == 202
    settle(aws)

    # Then both reviews were posted with one installation token (cached), and the installation is listed
    assert [len(github.reviews_of(repo.full_name, n)) for n in (1, 2)] == [1, 1]
    issued = [t for t in github.tokens if t.startswith(f"ghs_{installation_id}_")]
    assert len(issued) == 1
    view = client.get(f"/codereview/installations/app-{app_id}", headers=tenant.headers).json()
    assert [(i["id"], i["account"], i["status"], i["repositories"]) for i in view["installations"]] == [
        (installation_id, "app-org", "active", [repo.full_name])
    ]


def test_rules_of_a_malformed_repository_name_are_a_422_naming_repository(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/codereview/settings/rules", params={"repository": "bad"}, headers=tenant.headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "repository"


def _pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return str(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    )


def test_a_github_app_key_that_cannot_sign_rs256_is_refused_and_nothing_is_stored(
    client: TestClient, aws: EmbeddedAws, tenant: Tenant
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    # Given private keys that look like PEM but cannot sign the App's RS256 JWT
    unusable = {
        "garbled": "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n",
        "elliptic curve": _pem(ec.generate_private_key(ec.SECP256R1())),
        "1024-bit RSA": _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
    }
    for number, (what, pem) in enumerate(unusable.items(), start=1):
        app_id = 990_000 + number

        # When an admin registers an App with it
        response = client.post(
            "/codereview/installations",
            headers=tenant.admin_headers,
            json={"kind": "app", "app_id": app_id, "webhook_secret": "s" * 20, "private_key": pem},
        )

        # Then it is a 422 problem naming private_key, and neither a registration nor a secret exists
        assert response.status_code == 422, what
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"].split(".")[-1] for e in response.json()["errors"]] == ["private_key"], what
        assert pem not in response.text
        assert client.get(f"/codereview/installations/app-{app_id}", headers=tenant.headers).status_code == 404
        secrets = aws.client("secretsmanager").list_secrets()["SecretList"]
        assert not [s for s in secrets if s["Name"].endswith(f"/{tenant.tenant_id}/app-{app_id}")], what
    assert client.get("/codereview/installations", headers=tenant.headers).json()["items"] == []


def test_only_admins_manage_registrations_and_rules_and_members_still_read(
    client: TestClient, github: FakeGitHub, tenant: Tenant
) -> None:
    hooked = register_repository(client, github, tenant)
    registration_id = f"repo-{hooked.repo.id}"
    body = {
        "kind": "repository",
        "repository": hooked.full_name,
        "repository_id": hooked.repo.id,
        "webhook_secret": "member-secret-0123456789",
    }

    # When a member key tries the management routes
    refused = [
        client.post("/codereview/installations", headers=tenant.headers, json=body),
        client.delete(f"/codereview/installations/{registration_id}", headers=tenant.headers),
        client.post("/codereview/settings/rules", headers=tenant.headers, json=RULES),
    ]

    # Then each is a 403 problem naming the admin role, and nothing changed
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
    assert all(r.json()["required_role"] == "admin" for r in refused)
    assert client.get(f"/codereview/installations/{registration_id}", headers=tenant.headers).status_code == 200
    stored = client.get("/codereview/settings/rules", headers=tenant.headers).json()["items"]
    assert stored == []

    # And the admin key may do all three
    assert client.post("/codereview/installations", headers=tenant.admin_headers, json=body).status_code == 200
    assert client.post("/codereview/settings/rules", headers=tenant.admin_headers, json=RULES).status_code == 200
    deleted = client.delete(f"/codereview/installations/{registration_id}", headers=tenant.admin_headers)
    assert deleted.status_code == 204
