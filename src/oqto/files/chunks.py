"""How much file content moves at a time, and request bodies batched for writing.

Each chunk costs a hop to a worker thread (~0.12 ms on a small VM) and a few Python
calls, so chunks are large enough that a 100 MB transfer pays for a hundred or two of
them, not thousands, and small enough that memory stays flat: a transfer holds a chunk
or two, never a file.

Reads and writes differ (measured with `bench/files_bench.py`, 100 MB each way): a
download is sent while the next chunk is read, so bigger is better up to 1 MiB (1.4x
the throughput of 512 KiB). An upload stops reading the socket while a batch is
written, and only what the kernel's socket buffer and the server's own (~200 + 64 KiB)
take in meanwhile overlaps the write: 512 KiB batches gave 1.35x the throughput of
1 MiB ones.
"""

from collections.abc import AsyncIterable, AsyncIterator

from oqto.files.errors import too_large

CHUNK_SIZE = 1024 * 1024
WRITE_BATCH = 512 * 1024
# Read on the event loop before a response starts: what content sniffing looks at, and
# all of most files (`oqto.files.app`).
HEAD_SIZE = 64 * 1024


async def batched(chunks: AsyncIterable[bytes], limit: int) -> AsyncIterator[bytes]:
    """Join a request body's chunks (the server hands over ~64 KiB at a time) into
    pieces of at least WRITE_BATCH bytes (the last may be smaller, never empty).

    The limit is checked as each chunk arrives, so an oversized body is refused as soon
    as it crosses the limit, not a batch later.
    """
    parts: list[bytes] = []
    pending = 0
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        if not chunk:
            continue
        parts.append(chunk)
        pending += len(chunk)
        if pending >= WRITE_BATCH:
            yield b"".join(parts)
            parts.clear()
            pending = 0
    if parts:
        yield b"".join(parts)
