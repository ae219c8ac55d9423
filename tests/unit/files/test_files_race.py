"""A user who swaps a directory for a symlink mid-request must never get out of the root.

A racer thread atomically exchanges `ws/dir` (a real directory) with `ws/swap` (a
symlink to a directory outside the root holding a secret) as fast as it can, while the
server handles requests on `dir/...`. Path-based check-then-open loses this race
(hundreds of escapes in seconds); lookups confined by the kernel or an fd walk never do.
"""

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from oqto.files.app import create_app
from oqto.files.errors import WorkspaceError
from oqto.files.workspace import WorkspaceFS

pytestmark = pytest.mark.anyio

RACE_SECONDS = 3.0
MAX_REQUESTS = 6000
MAX_LIBRARY_READS = 200_000
CONCURRENCY = 4
SECRET = "top secret"


@pytest.fixture(params=["relative", "absolute"])
def arena(request: pytest.FixtureRequest, root: Path, outside: Path) -> Path:
    (outside / "secret").write_text(SECRET)
    (outside / "sub").mkdir()
    (root / "dir").mkdir()
    (root / "dir" / "secret").write_text("inside")
    (root / "dir" / "sub").mkdir()
    target = Path("..") / outside.name if request.param == "relative" else outside
    (root / "swap").symlink_to(target)
    return root


# The attacker runs as its own process, as a user's shell or agent would, so it
# competes for the CPU but not for the server's GIL.
_RACER = """
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
deadline = time.monotonic() + float(sys.argv[3])
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
flips = 0
print("ready", flush=True)
while not stop and time.monotonic() < deadline:
    if libc.renameat2(-100, a, -100, b, 2):
        sys.exit(f"renameat2: {os.strerror(ctypes.get_errno())}")
    flips += 1
if flips % 2:
    libc.renameat2(-100, a, -100, b, 2)  # leave the real directory at `dir`
print(flips, flush=True)
"""


class Racer:
    """Flips `dir` between the real directory and the escaping symlink until stopped."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self.flips = 0
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> "Racer":
        # Its own deadline keeps it from outliving a test that dies half-way.
        args = [str(self._root / "dir"), str(self._root / "swap"), str(RACE_SECONDS + 30)]
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _RACER, *args], stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline().strip() == "ready"
        return self

    def __exit__(self, *_: object) -> None:
        assert self._proc is not None
        self._proc.terminate()
        out, _err = self._proc.communicate(timeout=30)
        assert self._proc.returncode == 0, out
        self.flips = int(out.split()[-1])
        assert (self._root / "dir").is_dir() and not (self._root / "dir").is_symlink()


Send = Callable[[httpx.AsyncClient, int], Awaitable[str]]


async def race(client: httpx.AsyncClient, send: Send) -> Counter[str]:
    """Run `send(client, i)` CONCURRENCY-wide for RACE_SECONDS or MAX_REQUESTS."""
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + RACE_SECONDS
    counter = iter(range(MAX_REQUESTS))

    async def worker() -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            outcomes[await send(client, i)] += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return outcomes


@pytest.fixture
async def client(arena: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(arena))
    async with httpx.AsyncClient(transport=transport, base_url="http://files") as client:
        yield client


async def read_secret(client: httpx.AsyncClient, _: int) -> str:
    response = await client.get("/file", params={"path": "dir/secret"})
    if response.status_code != 200:
        return f"refused {response.status_code}"
    return "ESCAPED" if SECRET in response.text else "inside"


async def test_reads_never_escape_while_a_directory_is_swapped(
    resolver: str, arena: Path, client: httpx.AsyncClient
) -> None:
    with Racer(arena) as racer:
        outcomes = await race(client, read_secret)
    total = sum(outcomes.values())
    print(f"{resolver}: {total} reads, {racer.flips} flips, {dict(outcomes)}")
    assert outcomes["ESCAPED"] == 0
    # The race really ran: both states of `dir` were seen by the server.
    assert outcomes["inside"] > 0
    assert total - outcomes["inside"] > 0
    assert racer.flips > total


def test_library_reads_never_escape_while_a_directory_is_swapped(
    resolver: str, arena: Path
) -> None:
    """The same race without HTTP in between: many more attempts per second."""
    fs = WorkspaceFS(arena)
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + RACE_SECONDS
    with Racer(arena) as racer:
        while time.monotonic() < deadline and sum(outcomes.values()) < MAX_LIBRARY_READS:
            try:
                opened = fs.open_file("dir/secret")
            except WorkspaceError as exc:
                outcomes[f"refused {exc.code}"] += 1
                continue
            try:
                outcomes["ESCAPED" if SECRET.encode() in opened.read() else "inside"] += 1
            finally:
                opened.close()
    fs.close()
    total = sum(outcomes.values())
    print(f"{resolver}: {total} library reads, {racer.flips} flips, {dict(outcomes)}")
    assert outcomes["ESCAPED"] == 0
    assert outcomes["inside"] > 0
    assert total - outcomes["inside"] > 0


async def mixed_operations(client: httpx.AsyncClient, i: int) -> str:
    """Writes, mkdirs, uploads, listings and zips aimed at `dir` during the race."""
    kind = i % 5
    if kind == 0:
        response = await client.put("/file", params={"path": f"dir/w{i}"}, content=b"x")
    elif kind == 1:
        response = await client.put("/mkdir", params={"path": f"dir/sub/m{i}"})
    elif kind == 2:
        response = await client.post("/file", params={"path": "dir"}, files={"f": (f"u{i}", b"x")})
    elif kind == 3:
        response = await client.get("/tree", params={"path": "dir", "depth": 2})
    else:
        response = await client.get("/download-zip", params={"paths": "dir"})
    if response.status_code >= 300:
        return f"refused {response.status_code}"
    return "ESCAPED" if SECRET.encode() in response.content else "inside"


@pytest.mark.parametrize("arena", ["relative"], indirect=True)
async def test_writes_listings_and_zips_never_escape(
    resolver: str, arena: Path, outside: Path, client: httpx.AsyncClient
) -> None:
    with Racer(arena) as racer:
        outcomes = await race(client, mixed_operations)
    print(f"{resolver}: {sum(outcomes.values())} requests, {racer.flips} flips, {dict(outcomes)}")
    assert outcomes["ESCAPED"] == 0
    assert outcomes["inside"] > 0
    # Nothing was created through the symlink.
    assert sorted(p.name for p in outside.rglob("*")) == ["secret", "secret.txt", "sub"]
