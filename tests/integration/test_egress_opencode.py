"""A real opencode reaches its model only through the egress proxy: its HTTP_PROXY is a
loopback TCP relay into the proxy's Unix socket (what the in-sandbox init provides)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tests.support.fake_llm import FakeLLM, opencode_config
from tests.support.opencode_smoke import (
    seed_opencode_home,
    start_opencode,
    stop_opencode,
    wait_ready,
)
from tests.support.server import tool_env

from oqto.sandbox.egress import EgressProxy

T = TypeVar("T")


class Egress:
    """The proxy and a relay in front of it, on an event loop in a thread of their own."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.relayed = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.proxy: EgressProxy | None = None
        self.relay: asyncio.Server | None = None

    def call(self, coro: Awaitable[T]) -> T:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result(timeout=30)

    @property
    def url(self) -> str:
        assert self.relay is not None
        return f"http://127.0.0.1:{self.relay.sockets[0].getsockname()[1]}"

    def allow(self, hosts: list[str]) -> None:
        """(Re)start the proxy with this allow-list; a running one ends its connections."""

        async def swap() -> None:
            if self.proxy is not None:
                await self.proxy.close()
            self.proxy = EgressProxy(self.socket_path, hosts, session_id="egress-opencode")
            await self.proxy.start()

        self.call(swap())

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.relayed += 1
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.socket_path)
        except OSError:
            writer.close()
            return

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        await asyncio.gather(
            pump(reader, up_writer), pump(up_reader, writer), return_exceptions=True
        )

    async def _start_relay(self) -> None:
        self.relay = await asyncio.start_server(self._relay, "127.0.0.1", 0)

    async def _stop(self) -> None:
        if self.proxy is not None:
            await self.proxy.close()
        if self.relay is not None:
            self.relay.close()

    def __enter__(self) -> Egress:
        self.thread.start()
        self.call(self._start_relay())
        return self

    def __exit__(self, *_exc: object) -> None:
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@contextmanager
def opencode_behind(egress: Egress, llm: FakeLLM, root: Path) -> Iterator[Any]:
    binary = shutil.which("opencode", path=tool_env()["PATH"])
    assert binary is not None
    home = root / "home"
    seed_opencode_home(home)
    proxy_env = {name: egress.url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
    proxy_env |= {name.lower(): value for name, value in proxy_env.items()}
    proxy_env |= {"NO_PROXY": "", "no_proxy": ""}
    oc = start_opencode(
        binary,
        home=home,
        workdir=root / "ws",
        config=opencode_config(llm.base_url),
        log_path=root / "opencode.log",
        extra_env=proxy_env,
    )
    try:
        wait_ready(oc.base_url, oc.auth)
        yield oc
    finally:
        stop_opencode(oc.proc)


def prompt(oc: Any, text: str) -> dict[str, Any]:
    with oc.client(timeout=120) as client:
        session = client.post("/session", json={}).json()["id"]
        answer = client.post(
            f"/session/{session}/message", json={"parts": [{"type": "text", "text": text}]}
        )
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result


@pytest.mark.timeout(240)
def test_opencode_answers_through_the_proxy_and_not_past_it(fake_llm: FakeLLM) -> None:
    llm_authority = fake_llm.base_url.split("/")[2]
    with tempfile.TemporaryDirectory(prefix="egress-oc-", dir="/tmp") as tmp:
        root = Path(tmp)
        with Egress(root / "egress.sock") as egress:
            egress.allow([llm_authority])
            with opencode_behind(egress, fake_llm, root) as oc:
                before = len(fake_llm.agent_requests())
                answer = prompt(oc, "through the proxy")
                texts = [p.get("text") for p in answer["parts"] if p["type"] == "text"]
                assert texts == ["FAKE-REPLY: through the proxy"]
                assert len(fake_llm.agent_requests()) > before
                assert egress.relayed >= 1  # opencode's model traffic came in through the relay

                # The same opencode, with the model no longer on the list: the proxy refuses
                # and the model sees nothing more.
                egress.allow(["example.invalid:443"])
                seen = len(fake_llm.agent_requests())
                refused = prompt(oc, "not past the proxy")
                error = refused["info"].get("error") or {}
                assert error.get("name") == "APIError", refused["info"]
                assert "allow_hosts" in str(error), error
                assert len(fake_llm.agent_requests()) == seen
