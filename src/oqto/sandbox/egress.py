"""The allow-list egress proxy of a session whose network mode is `allowlist`.

It runs in the user plane's process, outside the sandbox, on a Unix socket that is bound
into the sandbox (an in-sandbox relay brings the services' `HTTP_PROXY` connections to it),
so its only clients are that one session's processes. It speaks the HTTP/1.1 proxy
protocol: `CONNECT host:port` tunnels (HTTPS, opaque to us) and absolute-form requests
(`GET http://host:port/path`, plain HTTP), each request on a keep-alive connection checked
on its own. Only a `host:port` in the allow-list gets through; names are resolved here,
since the sandbox has no DNS. h11 parses both sides strictly (one framing per message, no
smuggling), so what reaches an upstream is exactly the one request that was checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

import h11

from oqto.httpheaders import HOP_BY_HOP, connection_tokens
from oqto.osutil.unixsock import bind_unix_socket, remove_stale_socket

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")


class Target(NamedTuple):
    """Where a request goes, in the one spelling the allow-list compares."""

    host: str  # lower-case ASCII (IDNA), no trailing dot; or an IP address, canonical
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_target(authority: str, default_port: int | None = None) -> Target:
    """`host:port`, `[v6]:port`, or a bare host when there is a default port. Host names
    compare case-insensitively, in IDNA form, without a trailing dot. Raises ValueError."""
    if authority.startswith("["):
        inside, bracket, rest = authority[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"malformed address {authority!r}")
        try:
            host = ipaddress.IPv6Address(inside).compressed
        except ValueError:
            raise ValueError(f"{inside!r} in brackets is not an IPv6 address") from None
        port_text = rest[1:]
    else:
        host_text, colon, port_text = authority.rpartition(":")
        if not colon:
            host_text, port_text = authority, ""
        if ":" in host_text:
            raise ValueError(f"an IPv6 address goes in brackets: {authority!r}")
        host = _hostname(host_text)
    return Target(host, _port(port_text, default_port, authority))


def _hostname(text: str) -> str:
    name = text[:-1] if text.endswith(".") else text
    try:
        return str(ipaddress.IPv4Address(name))
    except ValueError:
        pass
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{text!r} is not a host name") from None
    if not ascii_name or not all(_LABEL.fullmatch(label) for label in ascii_name.split(".")):
        raise ValueError(f"{text!r} is not a host name")
    return ascii_name


def _port(text: str, default: int | None, authority: str) -> int:
    if not text:
        if default is None:
            raise ValueError(f"{authority!r} has no port")
        return default
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise ValueError(f"{authority!r} has an invalid port")
    return int(text)


def allow_list(entries: Sequence[str]) -> frozenset[Target]:
    """The allow-list from `allow_hosts`: every entry one `host:port`, no patterns (an
    entry that matched many hosts would let out whatever an attacker can name)."""
    targets = set()
    for entry in entries:
        if "*" in entry:
            raise ValueError(f"allow_hosts entry {entry!r}: wildcards are not supported")
        try:
            targets.add(parse_target(entry))
        except ValueError as exc:
            raise ValueError(f"allow_hosts entry {entry!r}: {exc}") from None
    return frozenset(targets)


@dataclass(frozen=True)
class EgressLimits:
    max_head_bytes: int = 64 * 1024  # request line + headers (431 above)
    max_connections: int = 256  # open client connections at once (503 above)
    idle_timeout: float = 300.0  # nothing moving either way, or between keep-alive requests
    resolve_timeout: float = 10.0
    connect_timeout: float = 10.0


class _ClientGone(Exception):
    """The client hung up while its answer was on the way."""


class _Refusal(Exception):
    """An answer of ours instead of the upstream's; the client connection closes after it."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class EgressProxy:
    """One session's proxy. `start()` listens (the socket 0600), `close()` stops listening
    and ends every open connection and tunnel."""

    def __init__(
        self,
        socket_path: Path,
        allow_hosts: Sequence[str],
        *,
        session_id: str,
        limits: EgressLimits | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.allowed = allow_list(allow_hosts)
        self.session_id = session_id
        self.limits = limits or EgressLimits()
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def open_connections(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        remove_stale_socket(self.socket_path)
        sock = bind_unix_socket(self.socket_path)
        self._server = await asyncio.start_unix_server(self._accept, sock=sock)

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in self._clients:
            task.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)
        await server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    async def __aenter__(self) -> EgressProxy:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        try:
            # Checked and counted in one step of the event loop: no two accepts interleave.
            if len(self._clients) >= self.limits.max_connections:
                await _answer(
                    writer,
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    f"too many connections through this sandbox's proxy "
                    f"(at most {self.limits.max_connections})",
                )
                return
            self._clients.add(task)
            await _ClientConnection(self, reader, writer).serve()
        finally:
            self._clients.discard(task)
            writer.close()

    def check(self, target: Target) -> None:
        if target not in self.allowed:
            log.warning("egress refused", extra={"session": self.session_id, "target": str(target)})
            raise _Refusal(
                HTTPStatus.FORBIDDEN,
                f"{target} refused: the sandbox policy's allow_hosts does not list it",
            )


async def _answer(writer: asyncio.StreamWriter, status: HTTPStatus, message: str) -> None:
    body = (message + "\n").encode()
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(5.0):
            await writer.drain()


def _end_to_end(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Minus the hop-by-hop headers; any `Proxy-*` header is the client's business with
    us, never the origin's. h11 gives names lower-cased."""
    pairs = [(name.decode("latin-1"), name, value) for name, value in headers]
    dropped = HOP_BY_HOP | connection_tokens(
        value.decode("latin-1") for text, _, value in pairs if text == "connection"
    )
    return [
        (name, value)
        for text, name, value in pairs
        if text not in dropped and not text.startswith("proxy-")
    ]


def _head_size(request: h11.Request) -> int:
    line = len(request.method) + len(request.target) + len(b"  HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers) + 2


def _absolute_form(raw: bytes) -> tuple[Target, bytes, bytes]:
    """(target, origin-form, Host) of `http://host[:port]/path?query`."""
    text = raw.decode("ascii")  # h11 admits only visible ASCII in a request target
    if "://" not in text:
        raise _Refusal(
            HTTPStatus.BAD_REQUEST,
            "this is a proxy: send absolute-form requests (GET http://host/path) "
            "or CONNECT host:port",
        )
    parts = urlsplit(text)
    if parts.scheme != "http":
        raise _Refusal(
            HTTPStatus.BAD_REQUEST,
            f"{parts.scheme}:// goes through CONNECT host:port, not as a URL",
        )
    if "@" in parts.netloc:
        raise _Refusal(HTTPStatus.BAD_REQUEST, "credentials in a proxied URL are not forwarded")
    try:
        target = parse_target(parts.netloc, DEFAULT_PORTS["http"])
    except ValueError as exc:
        raise _Refusal(HTTPStatus.BAD_REQUEST, str(exc)) from None
    origin = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return target, origin.encode("ascii"), parts.netloc.encode("ascii")


async def _resolve(target: Target, limits: EgressLimits) -> list[tuple[int, str]]:
    """(family, address) to try, in the resolver's order. An address needs no resolver (and
    so no trip through the executor's threads)."""
    try:
        ip = ipaddress.ip_address(target.host)
    except ValueError:
        pass
    else:
        return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, target.host)]
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(limits.resolve_timeout):
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise _Refusal(
            HTTPStatus.GATEWAY_TIMEOUT,
            f"resolving {target.host} took longer than {limits.resolve_timeout:g} s",
        ) from None
    except OSError as exc:
        raise _Refusal(
            HTTPStatus.BAD_GATEWAY, f"cannot resolve {target.host}: {exc.strerror or exc}"
        ) from None
    return [(family, str(address[0])) for family, _type, _proto, _name, address in infos]


async def _open_tcp(
    target: Target, limits: EgressLimits
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    addresses = await _resolve(target, limits)
    failures = []
    try:
        async with asyncio.timeout(limits.connect_timeout):
            for family, ip in addresses:
                try:
                    return await asyncio.open_connection(ip, target.port, family=family)
                except OSError as exc:
                    failures.append(f"{ip}: {exc.strerror or exc}")
    except TimeoutError:
        raise _Refusal(
            HTTPStatus.GATEWAY_TIMEOUT,
            f"connecting to {target} took longer than {limits.connect_timeout:g} s",
        ) from None
    raise _Refusal(HTTPStatus.BAD_GATEWAY, f"cannot connect to {target}: {'; '.join(failures)}")


class _Stalled(Exception):
    """A peer took none of our bytes for the idle timeout."""


class _Peer:
    """One side of the proxy as h11 sees it: events in, events out, every read and every
    wait for the other end to take our bytes bounded by the idle timeout. Outgoing events
    are queued and written together just before we wait for input (a response head and a
    small body in one write, not two), so at most one read's worth is ever held."""

    def __init__(
        self,
        role: type[h11.CLIENT | h11.SERVER],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        limits: EgressLimits,
    ) -> None:
        self.h11 = h11.Connection(role, max_incomplete_event_size=limits.max_head_bytes)
        self.reader = reader
        self.writer = writer
        self.idle = limits.idle_timeout
        self.pending: list[bytes] = []

    async def event(
        self, before_waiting: Callable[[], Awaitable[None]]
    ) -> h11.Event | type[h11.PAUSED]:
        while (event := self.h11.next_event()) is h11.NEED_DATA:
            await before_waiting()
            async with asyncio.timeout(self.idle):
                data = await self.reader.read(CHUNK)
            self.h11.receive_data(data)
        return cast("h11.Event | type[h11.PAUSED]", event)  # the loop consumed NEED_DATA

    def queue(self, event: h11.Event) -> None:
        if data := self.h11.send(event):
            self.pending.append(data)

    async def flush(self) -> None:
        if not self.pending:
            return
        self.writer.write(b"".join(self.pending))
        self.pending.clear()
        try:
            async with asyncio.timeout(self.idle):
                await self.writer.drain()
        except TimeoutError:
            raise _Stalled from None

    def next_cycle(self) -> bool:
        """Ready for another request on this connection (both messages complete)."""
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            return True
        return False


class _Upstream(_Peer):
    def __init__(
        self,
        target: Target,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        limits: EgressLimits,
    ) -> None:
        super().__init__(h11.CLIENT, reader, writer, limits)
        self.target = target

    def usable_for(self, target: Target) -> bool:
        # An upstream that closed while idle has fed its EOF by now.
        return self.target == target and not self.reader.at_eof() and not self.writer.is_closing()


class _ClientConnection:
    def __init__(
        self, proxy: EgressProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.proxy = proxy
        self.limits = proxy.limits
        self.client = _Peer(h11.SERVER, reader, writer, proxy.limits)
        self.upstream: _Upstream | None = None
        self.answered = False  # a response head has gone out: too late for an error of ours

    async def serve(self) -> None:
        try:
            await self._requests()
        except _Refusal as refusal:
            if refusal.status is not HTTPStatus.FORBIDDEN:
                log.info(
                    "egress failed",
                    extra={"session": self.proxy.session_id, "reason": refusal.message},
                )
            if not self.answered:
                await _answer(self.client.writer, refusal.status, refusal.message)
        except h11.RemoteProtocolError as exc:
            if not self.answered:
                await _answer(self.client.writer, HTTPStatus(exc.error_status_hint), str(exc))
        except (OSError, TimeoutError, _Stalled, _ClientGone, h11.LocalProtocolError):
            pass  # the client or the upstream went away, or went quiet: just close
        finally:
            self._drop_upstream()

    async def _requests(self) -> None:
        while True:
            event = await self.client.event(self._flush)
            if not isinstance(event, h11.Request):
                return  # the client closed between requests
            self.answered = False
            if _head_size(event) > self.limits.max_head_bytes:
                # h11 bounds a head still arriving; one that came whole in a read is here.
                raise _Refusal(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    f"request head above {self.limits.max_head_bytes} bytes",
                )
            if event.method == b"CONNECT":
                await self._tunnel(event)
                return
            await self._forward(event)
            if not self.client.next_cycle():
                return

    async def _tunnel(self, request: h11.Request) -> None:
        try:
            target = parse_target(request.target.decode("ascii"))
        except ValueError as exc:
            raise _Refusal(HTTPStatus.BAD_REQUEST, f"CONNECT needs host:port: {exc}") from None
        self.proxy.check(target)
        reader, writer = await _open_tcp(target, self.limits)
        try:
            while await self.client.event(self._flush) is not h11.PAUSED:
                pass  # the end of the CONNECT request (it has no body to speak of)
            early, _closed = self.client.h11.trailing_data
            client = self.client.writer
            client.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.answered = True
            if early:
                writer.write(early)
            await _splice(self.client.reader, client, reader, writer, self.limits.idle_timeout)
        finally:
            writer.close()

    async def _forward(self, request: h11.Request) -> None:
        target, origin_form, host = _absolute_form(request.target)
        self.proxy.check(target)
        upstream = await self._upstream_for(target)
        headers = [(k, v) for k, v in _end_to_end(request.headers) if k not in (b"host", b"expect")]
        headers.insert(0, (b"host", host))
        if any(name == b"transfer-encoding" for name, _ in request.headers):
            headers.append((b"transfer-encoding", b"chunked"))
        upstream.queue(h11.Request(method=request.method, target=origin_form, headers=headers))
        if self.client.h11.they_are_waiting_for_100_continue:
            self.client.queue(h11.InformationalResponse(status_code=100, headers=[]))
        while not isinstance(event := await self.client.event(self._flush), h11.EndOfMessage):
            if not isinstance(event, h11.Data):
                raise ConnectionResetError("the client went away mid-request")
            upstream.queue(h11.Data(data=event.data))
        upstream.queue(h11.EndOfMessage())
        await self._relay_response(upstream)
        await self._flush()
        if not upstream.next_cycle():
            self._drop_upstream()

    async def _relay_response(self, upstream: _Upstream) -> None:
        gone = asyncio.ensure_future(self._client_gone())
        try:
            await self._relay_events(upstream, gone)
        finally:
            # Awaited, not just cancelled: its read must be over before the next request
            # on this connection reads the client again.
            gone.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gone

    async def _client_gone(self) -> bool:
        """Wait for the client to speak while its answer is on the way: True when it hung
        up (an aborted agent turn), which must end the upstream request at once, not when
        the model next sends something; False for a pipelined request, kept for later."""
        data = await self.client.reader.read(CHUNK)
        if data:
            self.client.h11.receive_data(data)
        return not data

    async def _upstream_event(
        self, upstream: _Upstream, gone: asyncio.Future[bool]
    ) -> h11.Event | type[h11.PAUSED]:
        if gone.done():
            return await upstream.event(self._flush)
        step = asyncio.ensure_future(upstream.event(self._flush))
        either: set[asyncio.Future[Any]] = {step, gone}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not step.done() and gone.result():
            step.cancel()
            raise _ClientGone
        return await step

    async def _relay_events(self, upstream: _Upstream, gone: asyncio.Future[bool]) -> None:
        while True:
            try:
                event = await self._upstream_event(upstream, gone)
            except _Stalled:
                raise
            except TimeoutError:
                raise _Refusal(
                    HTTPStatus.GATEWAY_TIMEOUT,
                    f"{upstream.target} sent nothing for {self.limits.idle_timeout:g} s",
                ) from None
            except (OSError, h11.RemoteProtocolError) as exc:
                raise _Refusal(
                    HTTPStatus.BAD_GATEWAY, f"{upstream.target} answered badly: {exc}"
                ) from None
            if isinstance(event, h11.InformationalResponse):
                if event.status_code == 101:
                    raise _Refusal(HTTPStatus.BAD_GATEWAY, "protocol upgrades are not proxied")
                self.client.queue(
                    h11.InformationalResponse(
                        status_code=event.status_code, headers=_end_to_end(event.headers)
                    )
                )
            elif isinstance(event, h11.Response):
                self.client.queue(
                    h11.Response(
                        status_code=event.status_code,
                        headers=_end_to_end(event.headers),
                        reason=event.reason,
                    )
                )
                self.answered = True
            elif isinstance(event, h11.Data):
                self.client.queue(h11.Data(data=event.data))
            elif isinstance(event, h11.EndOfMessage):
                self.client.queue(h11.EndOfMessage())
                return
            else:
                raise _Refusal(HTTPStatus.BAD_GATEWAY, f"{upstream.target} closed mid-response")

    async def _flush(self) -> None:
        await self.client.flush()
        if self.upstream is not None:
            await self.upstream.flush()

    async def _upstream_for(self, target: Target) -> _Upstream:
        if self.upstream is not None and self.upstream.usable_for(target):
            return self.upstream
        self._drop_upstream()
        reader, writer = await _open_tcp(target, self.limits)
        self.upstream = _Upstream(target, reader, writer, self.limits)
        return self.upstream

    def _drop_upstream(self) -> None:
        if self.upstream is not None:
            self.upstream.writer.close()
            self.upstream = None


async def _splice(
    a_reader: asyncio.StreamReader,
    a_writer: asyncio.StreamWriter,
    b_reader: asyncio.StreamReader,
    b_writer: asyncio.StreamWriter,
    idle: float,
) -> None:
    """Copy both ways until each side has finished sending (a half-close is passed on),
    or until nothing has moved in either direction for `idle` seconds."""
    loop = asyncio.get_running_loop()
    last_moved = loop.time()

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        nonlocal last_moved
        while True:
            remaining = last_moved + idle - loop.time()
            if remaining <= 0:
                raise TimeoutError
            try:
                async with asyncio.timeout(remaining):
                    data = await src.read(CHUNK)
            except TimeoutError:
                continue  # the other direction may have moved meanwhile
            if not data:
                if dst.can_write_eof():
                    dst.write_eof()
                return
            last_moved = loop.time()
            dst.write(data)
            async with asyncio.timeout(idle):
                await dst.drain()

    pumps = [
        asyncio.ensure_future(pump(a_reader, b_writer)),
        asyncio.ensure_future(pump(b_reader, a_writer)),
    ]
    try:
        await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
