"""Proxied response bodies that end when the sign-in they were opened with ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oqto.control.auth.deps import Principal
    from oqto.control.auth.live import LiveConnections

# Shorter responses end by themselves within moments; watching them is not worth a task
# per chunk.
LONG_RESPONSE_BYTES = 1 << 20

Chunk = str | bytes | memoryview


async def until_revoked(
    live: LiveConnections, principal: Principal, body: AsyncIterable[Chunk]
) -> AsyncIterator[Chunk]:
    """Pass `body` through; stop (ending the response) as soon as the principal's token is
    revoked, the user disabled, or the role changed."""
    ended = asyncio.Event()
    untrack = live.track(principal, ended.set)
    iterator = body.__aiter__()
    revoked = asyncio.ensure_future(ended.wait())
    try:
        while True:
            chunk = asyncio.ensure_future(iterator.__anext__())
            await asyncio.wait({chunk, revoked}, return_when=asyncio.FIRST_COMPLETED)
            if not chunk.done():
                chunk.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await chunk
                return
            try:
                yield chunk.result()
            except StopAsyncIteration:
                return
    finally:
        untrack()
        revoked.cancel()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
