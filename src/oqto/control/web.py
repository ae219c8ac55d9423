"""The browser app: the built single-page app (`web/` -> `oqto/web_dist/`) served at `/`.

- `/assets/*` are content-hashed by the build: cached for a year, `immutable`; served
  pre-compressed (`.gz` written by the build) when the browser accepts gzip.
- Any other path that is not a file is a client-side route and gets `index.html`.
- Every page carries a strict Content-Security-Policy: scripts only from our origin (no
  inline script, no eval); styles from our origin plus a per-response nonce, which the app
  hands to the style elements the terminal library creates at run time (xterm.js has no
  other way to size and colour its grid). `index.html` is never cached, so each load gets
  a fresh nonce.
- `/api/*` never falls through to the app: an unknown API route stays a JSON 404, and a
  method no route serves at a known path a JSON 405 with `Allow`.
"""

from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

WEB_DIST = Path(__file__).resolve().parent.parent / "web_dist"
NONCE_PLACEHOLDER = "__OQTO_CSP_NONCE__"
ASSETS_PREFIX = "assets/"

IMMUTABLE = "public, max-age=31536000, immutable"


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            # Workspace images are previewed from the file API (same origin); images in
            # agent output that point elsewhere (tracking pixels) are not loaded.
            "img-src 'self'",
            "font-src 'self'",
            # Same-origin fetch, SSE and the terminal's WebSocket.
            "connect-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


def security_headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


@dataclass
class _CachedIndex:
    mtime_ns: int
    text: str


class WebApp:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._index: _CachedIndex | None = None

    def _index_text(self) -> str | None:
        """Re-read after a rebuild (mtime change) without restarting the server."""
        path = self.root / "index.html"
        try:
            mtime = path.stat().st_mtime_ns
            if self._index is None or self._index.mtime_ns != mtime:
                self._index = _CachedIndex(mtime, path.read_text(encoding="utf-8"))
        except OSError:
            return None
        return self._index.text

    def index(self) -> Response:
        nonce = secrets.token_urlsafe(18)
        headers = security_headers(nonce) | {"Cache-Control": "no-store"}
        text = self._index_text()
        if text is None:
            return PlainTextResponse(
                "The Oqto web UI is not built. Run scripts/setup.sh (it needs Node.js), "
                "or use the API under /api.\n",
                status_code=503,
                headers=headers,
            )
        return HTMLResponse(text.replace(NONCE_PLACEHOLDER, nonce), headers=headers)

    def _file(self, rel: str) -> Path | None:
        if not rel or "\x00" in rel:
            return None
        candidate = (self.root / rel).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def static(self, rel: str, request: Request) -> Response | None:
        path = self._file(rel)
        if path is None or path.name == "index.html":
            return None
        headers = security_headers(secrets.token_urlsafe(18))
        headers["Cache-Control"] = IMMUTABLE if rel.startswith(ASSETS_PREFIX) else "no-cache"
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        compressed = path.with_name(path.name + ".gz")
        if "gzip" in request.headers.get("accept-encoding", "") and compressed.is_file():
            headers |= {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
            return FileResponse(compressed, media_type=media_type, headers=headers)
        return FileResponse(path, media_type=media_type, headers=headers)


class _PageRoute(Route):
    """The catch-all. An `/api` path is never a page: routing answers it as it answers any
    API request no route takes (404, or 405 with `Allow`)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


def install(app: FastAPI, root: Path = WEB_DIST) -> None:
    """Mount last: the catch-all route must come after every API route."""
    web = WebApp(root)

    async def serve(request: Request) -> Response:
        path: str = request.path_params["path"]
        found = web.static(path, request)
        if found is not None:
            return found
        if path.startswith(ASSETS_PREFIX):
            # A missing script must fail as a 404, not load index.html as JavaScript.
            return PlainTextResponse("not found\n", status_code=404)
        return web.index()

    # GET also serves HEAD.
    app.router.routes.append(
        _PageRoute("/{path:path}", serve, methods=["GET"], include_in_schema=False)
    )
