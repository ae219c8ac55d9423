"""Drive a FrameReader from in-memory bytes, no socket needed."""

import asyncio
from typing import Any

from oqto.protocol.runner import MAX_FRAME_BYTES, FrameReader, ProtocolError

Frame = dict[str, Any] | ProtocolError


async def read_frames(chunks: list[bytes], max_frame_bytes: int = MAX_FRAME_BYTES) -> list[Frame]:
    """Every frame until EOF. Chunks arrive one per loop turn, so lines straddle reads."""
    reader = asyncio.StreamReader()
    frames = FrameReader(reader, max_frame_bytes)

    async def feed() -> None:
        for chunk in chunks:
            reader.feed_data(chunk)
            await asyncio.sleep(0)
        reader.feed_eof()

    feeder = asyncio.create_task(feed())
    out: list[Frame] = []
    while (frame := await frames.next_frame()) is not None:
        out.append(frame)
    await feeder
    return out


def decode_all(
    data: bytes | list[bytes], max_frame_bytes: int = MAX_FRAME_BYTES, timeout: float = 5.0
) -> list[Frame]:
    chunks = [data] if isinstance(data, bytes) else data
    return asyncio.run(asyncio.wait_for(read_frames(chunks, max_frame_bytes), timeout))


def codes(frames: list[Frame]) -> list[str]:
    """Each frame as its error code, or "ok" for a decoded object."""
    return ["ok" if isinstance(f, dict) else f.code.value for f in frames]
