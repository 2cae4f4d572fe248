"""The isolation matrix: for every template route that takes an id, another tenant using tenant A's ids gets 404
(or, for a list, a list without A's items), never A's data, and A's data is unchanged afterwards.

The routes come from template.yaml (every HttpApi event: method + path); tenant A's ids come from the service's
seeder in ``seeders.py``. A route whose path parameters no seeder provides fails here, naming the seeder to write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from stratus.local.template import HttpRoute

from .conftest import Tenant, issue_tenant
from .seeders import SEEDERS, Seed, SeedContext
from .template_routes import http_routes, path_parameters, route_label, service_app, service_of

pytestmark = pytest.mark.slow

ROUTES_WITH_IDS = [route for route in http_routes() if path_parameters(route.path)]
# Authenticated reads without an id: the lists another tenant's items must never appear in.
LIST_ROUTES = [
    route
    for route in http_routes()
    if route.method == "GET" and not path_parameters(route.path) and route.authorizer is not None
]


def takes_a_body(route: HttpRoute) -> bool:
    """Does the route's operation declare a request body in its app's OpenAPI?"""
    operation = service_app(service_of(route)).openapi()["paths"].get(route.path, {}).get(route.method.lower(), {})
    return "requestBody" in operation


def fill(path: str, params: dict[str, str]) -> str:
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\+?\}", lambda match: params[match.group(1)], path)


@dataclass
class World:
    """Tenant A's seeded resources per service (made on first use), tenant B, and A's view of them."""

    client: TestClient
    aws: EmbeddedAws
    github: Any
    a: Tenant
    b: Tenant
    seeds: dict[str, Seed] = field(default_factory=dict)
    views: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)

    def seed(self, service: str) -> Seed:
        if service not in self.seeds:
            self.seeds[service] = SEEDERS[service].seed(SeedContext(self.client, self.a, self.aws, self.github))
            self.views[service] = self.read_as_a(service)
        return self.seeds[service]

    def read_as_a(self, service: str) -> dict[str, tuple[int, str]]:
        """Everything A can read of the service: each GET route with A's ids, and each list."""
        params = self.seeds[service].params
        views = {}
        for route in http_routes():
            if service_of(route) == service and route.method == "GET" and route.authorizer is not None:
                response = self.client.get(fill(route.path, params), headers=self.a.headers)
                views[route_label(route)] = (response.status_code, response.text)
        return views


@pytest.fixture(scope="module")
def world(client: TestClient, stack: EmbeddedAws, github: Any) -> Iterator[World]:
    world = World(client, stack, github, issue_tenant("isolation-a", "alice"), issue_tenant("isolation-b", "bob"))
    yield world
    for seed in world.seeds.values():
        for resources in seed.keep_open:
            resources.close()


def test_every_route_that_takes_an_id_has_a_seeder_for_its_parameters() -> None:
    uncovered = []
    for route in ROUTES_WITH_IDS:
        service = service_of(route)
        provided = set(SEEDERS[service].provides) if service in SEEDERS else set()
        missing = [name for name in path_parameters(route.path) if name not in provided]
        if missing:
            uncovered.append(
                f"{route_label(route)}: write or extend SEEDERS[{service!r}] in tests/standing/seeders.py "
                f"so it creates tenant A's resources and returns {missing}"
            )
    assert not uncovered, "routes the isolation matrix cannot cover:\n" + "\n".join(uncovered)


def _covered(route: HttpRoute) -> bool:
    seeder = SEEDERS.get(service_of(route))
    return seeder is not None and set(path_parameters(route.path)) <= set(seeder.provides)


@pytest.mark.parametrize("route", [r for r in ROUTES_WITH_IDS if _covered(r)], ids=route_label)
def test_another_tenant_using_a_tenants_ids_is_refused_and_changes_nothing(route: HttpRoute, world: World) -> None:
    # Given tenant A's resources, and what A sees of them
    service, label = service_of(route), route_label(route)
    seed = world.seed(service)
    before = world.views[service]
    body = seed.bodies.get(label)
    assert body is not None or not takes_a_body(route), (
        f"{label}: SEEDERS[{service!r}] must give a valid body for this route in Seed.bodies, "
        "so another tenant is refused for the id, not for the body"
    )

    # When tenant B calls the route with A's ids
    response = world.client.request(route.method, fill(route.path, seed.params), json=body, headers=world.b.headers)

    # Then B is refused as if the resource did not exist, learns nothing of A's data, and A's data is unchanged
    judged = seed.same_name_elsewhere.get(label)
    if judged is not None:
        assert judged(response), f"{label} as tenant B -> {response.status_code} {response.text[:500]}"
    else:
        allowed = {404, 204} if route.method == "DELETE" else {404}  # DELETE may be idempotent: 204, nothing removed
        assert response.status_code in allowed, f"{label} as tenant B -> {response.status_code} {response.text[:500]}"
    if seed.canary:
        assert seed.canary not in response.text, f"{label} as tenant B returned A's data: {response.text[:500]}"
    after = world.read_as_a(service)
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, f"{label} as tenant B changed what A reads: {changed}"


@pytest.mark.parametrize("route", LIST_ROUTES, ids=route_label)
def test_a_list_never_shows_another_tenants_items(route: HttpRoute, world: World) -> None:
    # Given tenant A's resources in every service
    secrets = []
    for service in sorted(SEEDERS):
        seed = world.seed(service)
        names = {name for label in seed.same_name_elsewhere for name in path_parameters(label)}
        secrets += [seed.canary, *(value for name, value in seed.params.items() if name not in names)]

    # When tenant B lists
    response = world.client.get(route.path, headers=world.b.headers)

    # Then none of A's ids or data are in it
    assert response.status_code < 500, f"{route_label(route)} -> {response.status_code} {response.text[:500]}"
    leaked = [secret for secret in secrets if secret and secret in response.text]
    assert not leaked, f"{route_label(route)} as tenant B shows tenant A's {leaked}: {response.text[:500]}"
