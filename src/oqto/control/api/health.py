from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter, Request

from oqto.control.api.schemas import HealthOut
from oqto.control.context import context

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(request: Request) -> HealthOut:
    ctx = context(request)
    return HealthOut(
        status="ok",
        version=version("oqto"),
        mode="single-user" if ctx.single_user else "multi-user",
    )
