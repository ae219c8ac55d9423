"""Which HTTP/1.1 headers belong to one connection, not to the message: a proxy never
passes them on. Shared by the control plane's proxy and the sandbox's egress proxy."""

from __future__ import annotations

from collections.abc import Iterable

# RFC 9110 7.6.1, plus the proxy credentials (RFC 9110 11.7) that are ours, not the peer's.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


def connection_tokens(values: Iterable[str]) -> set[str]:
    """Headers named in `Connection` are hop-by-hop too (RFC 9110 7.6.1)."""
    return {token.strip().lower() for value in values for token in value.split(",")}
