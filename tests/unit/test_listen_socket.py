"""The control plane's listening socket must give accepted connections TCP_NODELAY, or
keep-alive responses stall ~40 ms on delayed ACKs (measured: 60 ms -> 4 ms per request)."""

import asyncio
import socket

from oqto.control.cli import bind


def test_accepted_connections_get_tcp_nodelay() -> None:
    async def run() -> int:
        listener = bind("127.0.0.1", 0)
        port = listener.getsockname()[1]
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_client(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_client, sock=listener)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        value = await asyncio.wait_for(accepted, 10)
        writer.close()
        server.close()
        await server.wait_closed()
        return value

    assert asyncio.run(run()) != 0
