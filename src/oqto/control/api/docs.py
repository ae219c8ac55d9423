"""The OpenAPI document and its browsable page, for signed-in users only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from oqto.control.auth.deps import CurrentUser

router = APIRouter(tags=["docs"])


@router.get("/openapi.json", include_in_schema=False)
def openapi(_user: CurrentUser, request: Request) -> dict[str, Any]:
    return request.app.openapi()  # type: ignore[no-any-return]


@router.get("/docs", include_in_schema=False)
def docs(_user: CurrentUser) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/api/openapi.json", title="Oqto API")
