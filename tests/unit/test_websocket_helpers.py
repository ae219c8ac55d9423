import pytest
from starlette.websockets import WebSocket

from oqto.control.proxy.websocket import origin_allowed


def websocket(headers: dict[str, str]) -> WebSocket:
    scope = {
        "type": "websocket",
        "path": "/",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }

    async def receive():  # type: ignore[no-untyped-def]
        return {}

    async def send(_message):  # type: ignore[no-untyped-def]
        return None

    return WebSocket(scope, receive, send)


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"host": "oqto.example:3000"}, True),  # no Origin: not a browser
        ({"host": "oqto.example:3000", "origin": "https://oqto.example:3000"}, True),
        ({"host": "oqto.example:3000", "origin": "https://evil.example"}, False),
        ({"host": "oqto.example:3000", "origin": "null"}, False),
        ({"host": "internal:3000", "origin": "https://public.example"}, True),
    ],
)
def test_origin_check(headers: dict[str, str], allowed: bool) -> None:
    assert origin_allowed(websocket(headers), {"https://public.example"}) is allowed
