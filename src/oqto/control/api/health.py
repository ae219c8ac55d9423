from __future__ import annotations

from functools import cache
from importlib.metadata import version

from fastapi import APIRouter, Request

from oqto.control.api.contract import ContractRoute
from oqto.control.api.schemas import HealthOut
from oqto.control.context import context

router = APIRouter(tags=["health"], route_class=ContractRoute)


@cache
def _version() -> str:
    # importlib.metadata scans sys.path on every call; the version does not change.
    return version("oqto")


@router.get("/health", response_model=HealthOut)
async def health(request: Request) -> HealthOut:
    ctx = context(request)
    return HealthOut(
        status="ok",
        version=_version(),
        mode="single-user" if ctx.single_user else "multi-user",
    )
