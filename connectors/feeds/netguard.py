"""SSRF guard: links inside feeds must not make us fetch private, loopback or link-local hosts."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class BlockedAddress(Exception):
    """The URL resolves to an address we refuse to fetch."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified)


def resolve_addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedAddress(f"cannot resolve {host}: {exc}") from exc
    return sorted({info[4][0] for info in infos})


def ensure_public_url(url: str) -> None:
    """Raise BlockedAddress unless every address the host resolves to is public.

    Checking all addresses (not just the first) stops a name that mixes public and private records.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedAddress(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in resolve_addresses(parts.hostname, port):
        if not is_public_address(address):
            raise BlockedAddress(f"{parts.hostname} resolves to non-public address {address}")
