"""Which database hosts an analyst may connect to: an allowlist of names, ``*.suffix`` wildcards and CIDRs.

Link-local, multicast, unspecified and reserved addresses (the instance metadata service among them) are refused
even when a name allows them; loopback (``127.0.0.1``, ``::1``) passes when allowlisted. A name is resolved only
after it matched the allowlist. A refusal never shows the allowlist: it is the operator's, not the tenant's.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from typing import Any, Final

from stratus.errors import Forbidden, ValidationFailed

_HOSTNAME: Final = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)

Resolver = Callable[..., list[tuple[Any, ...]]]


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _never_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if address.is_loopback:  # ::1 sits in the reserved ::/8, yet it is this machine, like 127.0.0.1
        return False
    return address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved


def _entry_allows(entry: str, host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    entry = entry.strip().lower()
    if not entry:
        return False
    if address is not None:
        try:
            return address in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    if entry.startswith("*."):
        return host.endswith(entry[1:]) and len(host) > len(entry) - 1
    return host == entry


def check_database_host(host: str, allowed: Sequence[str], *, resolve: Resolver = socket.getaddrinfo) -> str:
    """``host`` lower-cased when it may be connected to; ``Forbidden`` with the reason when not."""
    candidate = host.strip().lower()
    address = _ip(candidate)
    if address is None and not _HOSTNAME.fullmatch(candidate):
        raise ValidationFailed(f"host {host!r} is not a host name or IP address", field="host")
    if address is not None and _never_allowed(address):
        raise Forbidden(f"host {host} is a link-local or reserved address; it is never allowed", field="host")
    if not any(_entry_allows(entry, candidate, address) for entry in allowed):
        raise Forbidden(f"host {host} is not in the allowed database hosts", field="host")
    if address is None:
        try:
            resolved = {_ip(str(info[4][0])) for info in resolve(candidate, None)}
        except OSError as error:
            raise ValidationFailed(f"host {host} does not resolve", field="host") from error
        for found in resolved:
            if found is not None and _never_allowed(found):
                raise Forbidden(f"host {host} resolves to {found}, a link-local or reserved address", field="host")
    return str(address) if address is not None else candidate
