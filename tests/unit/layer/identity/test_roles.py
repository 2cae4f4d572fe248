"""The role matrix: admin does everything, member creates and uses, reader only reads."""

from __future__ import annotations

import pytest

from stratus.identity import Principal
from stratus.identity.roles import effective_roles, is_admin, may_write


def test_a_key_issued_without_roles_is_a_member() -> None:
    assert effective_roles(()) == frozenset({"member"})
    assert may_write(()) and not is_admin(())


@pytest.mark.parametrize(
    ("roles", "writes", "administers"),
    [
        (("admin",), True, True),
        (("member",), True, False),
        (("reader",), False, False),
        (("reader", "member"), True, False),
        (("reader", "admin"), True, True),
    ],
)
def test_each_role_may_do_what_the_matrix_says(roles: tuple[str, ...], writes: bool, administers: bool) -> None:
    assert may_write(roles) is writes
    assert is_admin(roles) is administers


def test_unknown_roles_grant_nothing() -> None:
    # A typo in a key's roles must not fall back to the member default
    assert effective_roles(("owner",)) == frozenset()
    assert not may_write(("owner",)) and not is_admin(("Admin",))


def test_an_admin_holds_every_role_and_a_reader_only_its_own() -> None:
    admin = Principal(tenant_id="acme", user_id="root", roles=("admin",))
    reader = Principal(tenant_id="acme", user_id="eve", roles=("reader",))
    legacy = Principal(tenant_id="acme", user_id="bob")

    assert admin.has_role("member") and admin.has_role("reader")
    assert reader.has_role("reader") and not reader.has_role("member")
    assert legacy.has_role("member") and not legacy.has_role("admin")
