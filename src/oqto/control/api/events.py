"""`GET /api/events`: a Server-Sent Events stream of the signed-in user's session changes,
so browsers show live status without polling.

One `SessionEventHub` listener on `SessionService.on_change` (called on the event loop)
fans each change out to the connections of that session's owner. Every connection has a
bounded queue: a client too slow to keep up gets one `resync` event (refetch the list)
instead of unbounded memory growth on the server.

Wire format: `event: session` with a session JSON, `event: session.deleted` with
`{"id": ...}`, `event: resync` with `{}` (sent first on every connection, so a reconnecting
client refetches what it missed), and `: keepalive` comments every 15 s.

A stream is tracked in `LiveConnections`: it ends (the response completes) as soon as its
token is revoked or expires, or its user is disabled, deleted or changes role.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import StreamingResponse

from oqto.control.api.contract import ContractRoute
from oqto.control.api.schemas import SessionOut
from oqto.control.auth.deps import CurrentPrincipal, Principal
from oqto.control.context import context
from oqto.control.sessions import SessionService
from oqto.db.models import Session

router = APIRouter(tags=["events"], route_class=ContractRoute)

HEARTBEAT_SECONDS = 15.0
QUEUE_SIZE = 256
HEARTBEAT = b": keepalive\n\n"
# Queued by `Subscription.end`: the stream stops when it reaches this.
END = b""
# One event of the stream, as the OpenAPI document describes it; `data` is JSON.
EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"enum": ["session", "session.deleted", "resync"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}


def sse_event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def encode_change(
    session_id: str, row: Session | None, sessions: SessionService | None = None
) -> bytes:
    if row is None:
        return sse_event("session.deleted", {"id": session_id})
    return sse_event("session", SessionOut.of(row, sessions).model_dump(mode="json"))


@dataclass(eq=False)
class Subscription:
    """One browser connection; everything here runs on the event loop."""

    user_id: str
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False

    def offer(self, payload: bytes) -> None:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.overflowed = True

    def end(self) -> None:
        """Drop what is queued and make the stream stop next."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(END)

    def take_overflow(self) -> bool:
        """True once after the queue overflowed; the stale backlog is dropped."""
        if not self.overflowed:
            return False
        self.overflowed = False
        while not self.queue.empty():
            self.queue.get_nowait()
        return True


class SessionEventHub:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._sessions: SessionService | None = None

    def attach(self, sessions: SessionService) -> None:
        self._sessions = sessions
        sessions.on_change.append(self.publish)

    def subscribe(self, user_id: str) -> Subscription:
        sub = Subscription(user_id=user_id)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    def publish(self, user_id: str, session_id: str, row: Session | None) -> None:
        """Serialises once per change, however many connections it goes to."""
        targets = [s for s in self._subscriptions if s.user_id == user_id]
        if not targets:
            return
        payload = encode_change(session_id, row, self._sessions)
        for sub in targets:
            sub.offer(payload)


def install(app: FastAPI, sessions: SessionService) -> None:
    hub = SessionEventHub()
    hub.attach(sessions)
    app.state.session_events = hub


async def _stream(
    request: Request, hub: SessionEventHub, principal: Principal
) -> AsyncIterator[bytes]:
    # Subscribed inside the generator so that a response that never starts leaks nothing;
    # the first event tells the client to (re)fetch, after the subscription exists, so no
    # change falls between the two.
    sub = hub.subscribe(principal.user.id)
    # A long-lived stream must not outlive a sign-out, a revoked token or a disabled
    # account: the registry ends it (on the event loop, so the queue is safe to touch).
    untrack = context(request).live.track(principal, sub.end)
    try:
        yield sse_event("resync", {})
        while True:
            try:
                payload = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield HEARTBEAT
                continue
            if payload == END:
                return
            if sub.take_overflow():
                yield sse_event("resync", {})
                continue
            yield payload
    finally:
        untrack()
        hub.unsubscribe(sub)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`event: session` (a SessionOut), `event: session.deleted` "
            '(`{"id": ...}`) and `event: resync` (`{}`: refetch the list), until sign-out.',
            "content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
        }
    },
)
async def events(principal: CurrentPrincipal, request: Request) -> StreamingResponse:
    hub: SessionEventHub = request.app.state.session_events
    return StreamingResponse(
        _stream(request, hub, principal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
