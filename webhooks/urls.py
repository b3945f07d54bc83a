"""Where a webhook may be sent: the SSRF rules.

An endpoint's URL is checked when it is registered (scheme, form, literal
addresses) and again at every delivery, after DNS resolution: every address
the name resolves to must be public, and the delivery connects to the
address that was checked (no second lookup a DNS rebinding could answer
differently). Private, loopback, link-local, multicast, reserved and
unspecified addresses are refused, IPv4-mapped IPv6 included, unless a
network is allowed by configuration (WEBHOOK_ALLOWED_NETWORKS). Only `https`,
except plain `http` to loopback in test mode (WEBHOOK_ALLOW_HTTP with
ORDERLY_TESTING=1).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2048


class UrlRefused(ValueError):
    """The URL, or an address it resolves to, may not be called."""


@dataclass(frozen=True)
class Target:
    """A vetted destination: connect to one of `addresses` (in order), speak to `host`."""

    scheme: str
    host: str
    port: int
    path: str  # with its query
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class UrlPolicy:
    allowed_networks: tuple[IPNetwork, ...] = ()
    allow_http_to_loopback: bool = False

    @classmethod
    def from_settings(cls, allowed_networks: str, allow_http: bool, testing: bool) -> UrlPolicy:
        networks = tuple(
            ipaddress.ip_network(cidr.strip(), strict=False) for cidr in allowed_networks.split(",") if cidr.strip()
        )
        return cls(networks, allow_http_to_loopback=allow_http and testing)

    def check_url(self, url: str) -> SplitResult:
        """The URL's parts if its form is acceptable; UrlRefused (with a reason
        a client can act on) otherwise. Literal addresses are checked here."""
        if len(url) > MAX_URL_LENGTH:
            raise UrlRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
        if not url.isascii() or any(ch.isspace() or ord(ch) < 32 for ch in url):
            raise UrlRefused("the URL must be ASCII without spaces (encode an international name as punycode)")
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unclosed "[" of an IPv6 address
            raise UrlRefused("the URL is not well-formed") from None
        if parts.scheme not in ("https", "http"):
            raise UrlRefused("the URL must be https")
        try:
            parts.port  # noqa: B018 - raises on a port out of range
        except ValueError:
            raise UrlRefused("the URL's port is not a number from 1 to 65535") from None
        if not parts.hostname:
            raise UrlRefused("the URL has no host")
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("the URL must not carry credentials")
        if parts.fragment:
            raise UrlRefused("the URL must not have a #fragment")
        if parts.scheme == "http" and not (self.allow_http_to_loopback and _is_loopback_name(parts.hostname)):
            raise UrlRefused("the URL must be https")
        literal = _literal_address(parts.hostname)
        if literal is not None:
            self.check_address(literal, parts.scheme)
        return parts

    def check_address(self, address: IPAddress, scheme: str) -> None:
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        checked = mapped or address
        if any(checked in network for network in self.allowed_networks):
            return
        if scheme == "http" and self.allow_http_to_loopback and checked.is_loopback:
            return
        if not checked.is_global or checked.is_multicast or checked.is_reserved or checked.is_unspecified:
            raise UrlRefused(f"the URL leads to a non-public address ({address})")

    def resolve(self, url: str, resolver: Resolver = system_resolver) -> Target:
        """Check the URL, resolve its host, check every address: the Target to connect to."""
        parts = self.check_url(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
        except (OSError, UnicodeError) as exc:
            raise UrlRefused(f"the host {host} does not resolve: {exc}") from None
        if not addresses:
            raise UrlRefused(f"the host {host} does not resolve")
        for address in addresses:  # all of them: a mixed answer is refused, not raced
            self.check_address(address, parts.scheme)
        path = parts.path or "/"
        query = f"{path}?{parts.query}" if parts.query else path
        return Target(parts.scheme, host, port, query, tuple(str(address) for address in addresses))


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback_name(host: str) -> bool:
    literal = _literal_address(host)
    return host == "localhost" or (literal is not None and literal.is_loopback)
