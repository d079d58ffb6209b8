"""Which address a request comes from: the connection's peer, or — only behind a proxy the
operator names — the client that proxy reports in ``X-Forwarded-For``.

Rate limits and the count of failed authentications are kept per client address, so believing
a forwarded header from anyone would let every request claim to be a new client. PeerCheck
believes ``X-Forwarded-For`` only when the connection comes from an address in
``FORWARDED_ALLOW_IPS`` (the variable uvicorn reads too, so server and service agree; empty by
default: no proxy is trusted). From a trusted proxy, the client is the right-most address in the
header that is not itself a trusted proxy.

A server may already have replaced the peer address with one taken from the header before
PeerCheck sees the request (uvicorn does so for 127.0.0.1 unless told otherwise). When PeerCheck
trusts no proxy and the address it is given is one the header claims, the real peer is unknown:
such requests are all counted as one client, ``UNVERIFIED``, so a forged header still buys no
fresh limits.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

from api.guards import ASGIApp, Receive, Scope, Send

UNVERIFIED = "forwarded-by-untrusted-proxy"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """Addresses and networks (``10.0.0.0/8``) whose ``X-Forwarded-For`` is believed; ``*``: all.
    Entries that are not IP addresses (a Unix socket path) match literally."""

    def __init__(self, entries: Iterable[str]):
        self.everyone = False
        self.networks: list[Network] = []
        self.literals: set[str] = set()
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            if entry == "*":
                self.everyone = True
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.literals.add(entry)

    @classmethod
    def parse(cls, value: str) -> "TrustedProxies":
        """From the comma-separated form of ``FORWARDED_ALLOW_IPS``."""
        return cls(value.split(","))

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks or self.literals)

    def __contains__(self, host: str | None) -> bool:
        if host is None:
            return False
        if self.everyone or host in self.literals:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def forwarded_for(scope: Scope) -> list[str]:
    """The entries of every ``X-Forwarded-For`` header, in order."""
    return [item for key, value in scope.get("headers", ()) if key == b"x-forwarded-for"
            for item in value.decode("latin-1").split(",")]


def _host(item: str) -> str:
    item = item.strip()
    if item.startswith("["):  # [2001:db8::1]:443
        return item[1:item.find("]")] if "]" in item else ""
    if item.count(":") == 1:  # 203.0.113.7:5000
        return item.split(":")[0]
    return item


def client_address(peer: str | None, forwarded: list[str], trusted: TrustedProxies) -> str | None:
    """The address to count a request under (see the module docstring); ``forwarded`` as the
    header lists them (ports and brackets are removed here)."""
    forwarded = [host for host in map(_host, forwarded) if host]
    if not forwarded:
        return peer
    if peer in trusted:
        for host in reversed(forwarded):
            if host not in trusted:
                return host
        return forwarded[0]
    if not trusted and peer in forwarded:
        return UNVERIFIED  # the server took the peer address from a header nobody vouches for
    return peer


class ClientAddress:
    """Sets ``scope["client"]`` to the address PeerCheck counts the request under."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies):
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer, port = scope.get("client") or (None, 0)
            host = client_address(peer, forwarded_for(scope), self.trusted)
            if host != peer:
                scope = {**scope, "client": (host, 0)}
        await self.app(scope, receive, send)
