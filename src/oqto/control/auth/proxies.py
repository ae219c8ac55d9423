"""Which address a request comes from: the TCP peer, unless that peer is one of
`[server] trusted_proxies`, in which case its `X-Forwarded-For` / `X-Forwarded-Proto` say.

The login throttle keys on this address, so believing the header from anyone (or, as
uvicorn does by default, from every loopback process) would let any local program pick a
fresh address for each guess. uvicorn's own proxy-header handling is therefore off
(`oqto serve` passes `proxy_headers=False`) and this middleware does the job instead.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from oqto.control.trustedproxies import TrustedProxies


def forwarded_client(proxies: TrustedProxies, peer: str, forwarded_for: str) -> str:
    """The first address, from the right, that was not added by a trusted proxy. Hops to
    the left of it were written by the client (or a proxy we do not know) and are not
    believed."""
    if peer not in proxies:
        return peer
    client = peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # not an address (a port, an obfuscated name): stop at the last good one
        client = hop
        if hop not in proxies:
            break
    return client


class TrustedProxyMiddleware:
    """Rewrites `scope["client"]` (and the scheme) for requests a trusted proxy relayed."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if (
            scope["type"] in ("http", "websocket")
            and self.proxies
            and peer
            and peer[0] in self.proxies
        ):
            forwarded = ", ".join(
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == b"x-forwarded-for"
            )
            # With several proxies, the last value is the one the nearest proxy wrote.
            proto = next(
                (
                    v.decode("latin-1").split(",")[-1].strip().lower()
                    for n, v in scope["headers"]
                    if n == b"x-forwarded-proto"
                ),
                None,
            )
            scope = dict(scope)
            if forwarded:
                scope["client"] = (forwarded_client(self.proxies, peer[0], forwarded), 0)
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
        await self.app(scope, receive, send)


def client_address(scope: Scope) -> str:
    """The client's address as the throttle should see it (after the middleware)."""
    peer = scope.get("client")
    return str(peer[0]) if peer else "unknown"
