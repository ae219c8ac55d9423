"""The OpenAPI document and its browsable page, for signed-in users only.

The page is swagger-ui, pinned in `web/package.json` (`swagger-ui-dist`) and copied into
the build (`web_dist/swagger-ui/`), so nothing is loaded from another origin: the page
works offline and runs under a CSP that allows scripts from our origin only. FastAPI's
own docs page is not used because it loads swagger-ui from a CDN and starts it with an
inline script; ours starts it from `init.js`, a file.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from oqto.control import web
from oqto.control.auth.deps import CurrentUser
from oqto.control.errors import ApiError
from oqto.protocol.errors import ErrorCode

router = APIRouter(tags=["docs"])

SWAGGER_DIR = web.WEB_DIST / "swagger-ui"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Oqto API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"""

INIT_JS = """// Starts swagger-ui on /api/docs: a file, as the page's CSP allows no inline script.
(function () {
  "use strict";
  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )oqto_csrf=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No badge fetched from the public validator: nothing leaves our origin.
    validatorUrl: null,
    // Signed in by cookie: changes need the CSRF header, as they do from the app.
    requestInterceptor: function (request) {
      var token = csrfToken();
      if (token) request.headers["X-CSRF-Token"] = token;
      return request;
    },
  });
})();
"""


def content_security_policy(nonce: str) -> str:
    # The app's policy, except that swagger-ui's stylesheet draws its icons from data:
    # images (harmless: an image cannot run script).
    return web.content_security_policy(nonce).replace("img-src 'self'", "img-src 'self' data:")


def _headers() -> dict[str, str]:
    nonce = secrets.token_urlsafe(18)
    headers = web.security_headers(nonce)
    headers["Content-Security-Policy"] = content_security_policy(nonce)
    return headers


@router.get("/openapi.json", include_in_schema=False)
def openapi(_user: CurrentUser, request: Request) -> dict[str, Any]:
    return request.app.openapi()  # type: ignore[no-any-return]


@router.get("/docs", include_in_schema=False)
def docs(_user: CurrentUser) -> Response:
    headers = _headers() | {"Cache-Control": "no-store"}
    if not all((SWAGGER_DIR / name).is_file() for name in ASSETS):
        return PlainTextResponse(
            "The API docs page is not built (swagger-ui comes with the web UI build): run "
            "scripts/setup.sh, or read the document at /api/openapi.json.\n",
            status_code=503,
            headers=headers,
        )
    return HTMLResponse(PAGE, headers=headers)


@router.get("/docs/init.js", include_in_schema=False)
def init_script(_user: CurrentUser) -> Response:
    return Response(
        INIT_JS,
        media_type="text/javascript; charset=utf-8",
        headers=_headers() | {"Cache-Control": "no-cache"},
    )


@router.get("/docs/{name}", include_in_schema=False)
def asset(name: str, _user: CurrentUser, request: Request) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise ApiError(ErrorCode.NOT_FOUND, "Not Found")
    path: Path = SWAGGER_DIR / name
    if not path.is_file():
        raise ApiError(ErrorCode.NOT_BUILT, "swagger-ui is not built: run scripts/setup.sh")
    # Not content-hashed: revalidated (ETag) rather than cached for good.
    headers = _headers() | {"Cache-Control": "no-cache"}
    compressed = path.with_name(name + ".gz")
    if "gzip" in request.headers.get("accept-encoding", "") and compressed.is_file():
        headers |= {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return FileResponse(compressed, media_type=media_type, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers)
