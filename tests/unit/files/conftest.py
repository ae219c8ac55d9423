from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from oqto.files import beneath
from oqto.files.app import create_app
from oqto.files.limits import FileLimits


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["openat2", "fd-walk"])
def resolver(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test once with the kernel's openat2 and once with the fallback fd walk."""
    if request.param == "openat2" and not beneath.openat2_available():
        pytest.skip("kernel without openat2")
    beneath.use_openat2(request.param == "openat2")
    yield request.param
    beneath.use_openat2(None)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A sibling of the root holding a secret, reachable only through symlinks."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("top secret")
    return path


@pytest.fixture
def make_client(
    root: Path,
) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    @asynccontextmanager
    async def make(limits: FileLimits | None = None) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=create_app(root, limits or FileLimits()))
        async with httpx.AsyncClient(transport=transport, base_url="http://files") as client:
            yield client

    return make


@pytest.fixture
async def client(
    make_client: Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]],
) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as client:
        yield client
