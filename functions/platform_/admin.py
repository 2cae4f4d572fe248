"""The first admin of a stack, from one command: a tenant, its admin user, and optionally an admin API key.

Against AWS (names from the stack's outputs, credentials as for the AWS CLI)::

    AWS_REGION=eu-west-1 IDENTITY_TABLE=<IdentityTableName> PLATFORM_TABLE=<PlatformTableName> \\
    PYTHONPATH=layers/common:functions python -m platform_.admin create-tenant --name "Acme" --email ada@acme.test

Against the local stack, add ``AWS_ENDPOINT_URL=<embedded AWS printed by make dev>`` and use the local table
names ``stratus-local-IdentityTable`` and ``stratus-local-PlatformTable``. The password is read from
``STRATUS_ADMIN_PASSWORD`` or asked for; ``--api-key`` also prints an admin API key (shown once).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from stratus.errors import StratusError


def _password() -> str:
    given = os.environ.get("STRATUS_ADMIN_PASSWORD")
    if given:
        return given
    first = getpass.getpass("Password for the admin: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def create_tenant(name: str, email: str, password: str, with_api_key: bool) -> list[str]:
    """Lines to print: the tenant, the admin, and the key when asked for."""
    from platform_.wiring import account_service, get_identity

    user = account_service().create_account(email, password, name)
    lines = [f"tenant   {user.tenant_id}", f"admin    {user.email} ({user.user_id})"]
    if with_api_key:
        _, plaintext = get_identity().issue_api_key(user.tenant_id, user.user_id, roles=("admin",), name="admin CLI")
        lines.append(f"api key  {plaintext}   (shown once)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_.admin", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-tenant", help="a tenant and its first admin user")
    create.add_argument("--name", required=True, help="the organisation's display name")
    create.add_argument("--email", required=True, help="the admin's email (signs in with it)")
    create.add_argument("--api-key", action="store_true", help="also issue an admin API key")
    args = parser.parse_args(argv)
    try:
        lines = create_tenant(args.name, args.email, _password(), args.api_key)
    except StratusError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
