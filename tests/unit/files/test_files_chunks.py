"""Request bodies joined into chunk-sized pieces, with the upload limit checked early."""

from collections.abc import AsyncIterator

import pytest

from oqto.files.chunks import WRITE_BATCH, batched
from oqto.files.errors import WorkspaceError
from oqto.protocol.errors import ErrorCode

pytestmark = pytest.mark.anyio


class Body:
    """Chunks of the given sizes; counts how many were pulled."""

    def __init__(self, *sizes: int) -> None:
        self.sizes = sizes
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, size in enumerate(self.sizes):
            self.pulled += 1
            yield bytes([i % 256]) * size


async def collect(body: Body, limit: int) -> list[bytes]:
    return [piece async for piece in batched(body, limit)]


async def test_pieces_are_at_least_a_chunk_and_keep_every_byte() -> None:
    sizes = [65536] * 40 + [0, 1, 70000, 3]
    pieces = await collect(Body(*sizes), limit=10 * WRITE_BATCH)
    assert all(len(p) >= WRITE_BATCH for p in pieces[:-1])
    assert all(pieces)
    expected = b"".join(bytes([i % 256]) * size for i, size in enumerate(sizes))
    assert b"".join(pieces) == expected


async def test_a_small_body_is_one_piece_and_an_empty_body_none() -> None:
    assert await collect(Body(10, 20), limit=100) == [b"\x00" * 10 + b"\x01" * 20]
    assert await collect(Body(), limit=100) == []
    assert await collect(Body(0), limit=100) == []


async def test_the_limit_is_checked_at_the_chunk_that_crosses_it() -> None:
    body = Body(*[400] * 100)
    with pytest.raises(WorkspaceError) as refused:
        await collect(body, limit=1000)
    assert refused.value.code is ErrorCode.TOO_LARGE
    assert body.pulled == 3  # 1,200 bytes: refused there, not a chunk's worth later


async def test_exactly_the_limit_is_accepted() -> None:
    assert len(b"".join(await collect(Body(500, 500), limit=1000))) == 1000
