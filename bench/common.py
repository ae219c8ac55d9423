"""Shared helpers for the benchmarks: a real `oqto serve` with a warmed opencode HOME and
the fake LLM (from `tests.support`), a running session and how to reach its services,
statistics, reports, and process bookkeeping so a benchmark never leaves anything running."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `tests.support` lives at the repo root
    sys.path.insert(0, str(REPO))

from tests.support.fake_llm import FakeLLM, opencode_config  # noqa: E402
from tests.support.procs import tagged_pids  # noqa: E402
from tests.support.server import OPENCODE_HOME, TOOLS_BIN, OqtoServer  # noqa: E402

from oqto.config.model import OqtoConfig  # noqa: E402
from oqto.control.app import resolve_paths  # noqa: E402
from oqto.osutil.sockowner import loopback_listen_ports  # noqa: E402
from oqto.userplane.factory import local_userplane  # noqa: E402
from oqto.userplane.local import LocalUserPlane  # noqa: E402
from oqto.userplane.services import SessionLayout  # noqa: E402

REPORTS = REPO / "bench" / "reports"
SESSION_TAG = "OQTO_SESSION_ID"
# Carried by the helper processes a benchmark starts itself (a peer proxy, a load
# generator), so the final sweep finds them like a session's processes.
RUN_TAG = "OQTO_BENCH_RUN"
# Admin sandbox files the benchmarks compare (None: no file, the built-in default).
SANDBOX_FILES: dict[str, str | None] = {
    "development": None,
    "minimal": 'profile = "minimal"\n',  # network host: opencode on the host's loopback
    "off": "enabled = false\n",
}

__all__ = [
    "OPENCODE_HOME",
    "REPO",
    "REPORTS",
    "SANDBOX_FILES",
    "TOOLS_BIN",
    "AgentEndpoint",
    "BenchEnv",
    "OqtoServer",
    "Session",
    "agent_endpoint",
    "bench_env",
    "build_userplane",
    "fmt_ms",
    "machine_info",
    "md_table",
    "patched_environ",
    "percentile",
    "publish",
    "ratio",
    "session_sockets",
    "start_session",
    "summarize",
    "tagged_exact",
    "tagged_pids",
    "write_report",
]


# -- statistics ------------------------------------------------------------------------


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def stop_process(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited after `grace` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    """Until something accepts on loopback `port`; raises if `proc` exits first (with the
    end of its `log`) or after 30 s."""
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen within 30 s")
        time.sleep(0.05)


def rss_kb(pid: int) -> int:
    """A process's resident memory, KiB (from /proc/<pid>/statm)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """Latency summary in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "min_ms": round(min(ms), 3),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or a != a or b != b:  # NaN-safe
        return None
    return round(a / b, 2)


def fmt_ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


# -- reports ---------------------------------------------------------------------------


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def _tool_version(name: str) -> str | None:
    binary = shutil.which(name, path=f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if binary is None:
        return None
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=20, env=_plain_env()
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (
        (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else None
    )


def _plain_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQTO_")}
    env["HOME"] = str(OPENCODE_HOME)
    return env


def machine_info() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git_commit(),
        "opencode": _tool_version("opencode"),
        "ttyd": _tool_version("ttyd"),
    }


def write_report(name: str, data: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    REPORTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    json_path = REPORTS / f"{name}-{stamp}.json"
    md_path = REPORTS / f"{name}-{stamp}.md"
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    md_path.write_text(markdown.rstrip() + "\n")
    return json_path, md_path


def publish(name: str, data: dict[str, Any], markdown: str, leftovers: Any) -> int:
    """Print the tables, write the report, and turn leftover processes into exit 1."""
    print()
    print(markdown)
    json_path, md_path = write_report(name, data, markdown)
    print(f"\nreport: {json_path}\n        {md_path}")
    if leftovers:
        print(f"ERROR: processes were left behind: {leftovers}", file=sys.stderr)
        return 1
    return 0


# -- environment -----------------------------------------------------------------------


@contextlib.contextmanager
def patched_environ(env: dict[str, str]) -> Iterator[None]:
    """Replace os.environ for the duration (an in-process user plane builds each session's
    environment from ours, so it must see exactly what `oqto serve` sees)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def copy_warm_home(dest: Path) -> float:
    """A private copy of the tests' warmed opencode HOME, so the benchmark neither pays
    opencode's first-start npm install nor writes its per-project state (one entry per
    benchmark session) into the HOME the test suite uses. Returns the seconds the copy took."""
    began = time.perf_counter()
    if OPENCODE_HOME.is_dir() and any(OPENCODE_HOME.iterdir()):
        shutil.copytree(OPENCODE_HOME, dest, symlinks=True)
    else:
        dest.mkdir(parents=True)
        print(
            f"warning: {OPENCODE_HOME} is empty; the first opencode start will download its "
            "packages (run the integration tests once to warm it)",
            file=sys.stderr,
        )
    return time.perf_counter() - began


def strip_xdg(env: dict[str, str]) -> dict[str, str]:
    """XDG_{CONFIG,DATA,CACHE,STATE}_HOME would point opencode away from HOME."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env.pop(var, None)
    return env


@dataclass
class BenchEnv:
    root: Path
    llm: FakeLLM
    opencode_json: Path
    home: Path
    home_copy_seconds: float
    servers: list[OqtoServer] = field(default_factory=list)
    # Every session id we created (API, in process, direct): checked for leftovers at exit.
    session_ids: set[str] = field(default_factory=set)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    leftovers: dict[int, str] = field(default_factory=dict)

    def helper_env(self, **extra: str) -> dict[str, str]:
        """The environment for a helper process we start (a peer proxy, a load generator):
        tagged with this run, so the sweep at exit kills it if it outlived its owner."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OQTO_")}
        return env | {RUN_TAG: self.run_id} | extra

    def model_ref(self) -> dict[str, str]:
        """The fake model as opencode's message API names it."""
        provider, model = json.loads(self.opencode_json.read_text())["model"].split("/", 1)
        return {"providerID": provider, "modelID": model}

    def server(
        self,
        name: str = "server",
        home: Path | None = None,
        sandbox: str | None = None,
        env: dict[str, str] | None = None,
    ) -> OqtoServer:
        """`sandbox`: the admin sandbox file's text (None: the built-in default profile);
        `env`: extra environment, e.g. `OQTO_<SECTION>__<KEY>` config overrides."""
        # The terminal figures measure the relay against ttyd itself, one shell per
        # connection: with tmux, every connection would attach to the session's one shell.
        env = {"OQTO_TTYD__TMUX": "", **(env or {})}
        server = OqtoServer(
            self.root / name, opencode_config=self.opencode_json, sandbox=sandbox, env=env
        )
        server.env["HOME"] = str(home or self.home)
        strip_xdg(server.env)
        self.servers.append(server)
        return server.start()

    def stop_server(self, server: OqtoServer) -> None:
        code = server.stop()
        self.servers.remove(server)
        if code != 0:
            print(f"warning: oqto serve exited with {code}", file=sys.stderr)

    def fresh_home(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True)
        return path


@contextlib.contextmanager
def bench_env(prefix: str, keep: bool = False) -> Iterator[BenchEnv]:
    """Fake LLM, opencode.json, a warmed private HOME; on exit every server is stopped,
    every process tagged with one of our session ids is killed (and reported), and the
    temporary root is removed unless `keep`."""
    # Short path: per-session Unix sockets must fit in 107 bytes.
    root = Path(tempfile.mkdtemp(prefix=f"oqto-{prefix}-", dir="/tmp"))
    llm = FakeLLM()
    llm.start()
    env: BenchEnv | None = None
    try:
        opencode_json = root / "opencode.json"
        opencode_json.write_text(json.dumps(opencode_config(llm.base_url)))
        home = root / "home"
        copied = copy_warm_home(home)
        env = BenchEnv(root, llm, opencode_json, home, round(copied, 3))
        yield env
    finally:
        try:
            if env is not None:
                for server in list(env.servers):
                    env.stop_server(server)
                env.leftovers = kill_leftovers(env.session_ids, env.run_id)
                if env.leftovers:
                    print(f"warning: killed leftover processes: {env.leftovers}", file=sys.stderr)
        finally:
            llm.stop()
            if keep:
                print(f"kept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)


def _exact_tagged(session_ids: set[str], run_id: str | None = None) -> dict[int, str]:
    """Processes tagged with exactly one of these sessions, or with this run (other runs
    on the box, e.g. a test suite, may have tagged processes of their own)."""
    wanted = {f"{SESSION_TAG}={sid}".encode() for sid in session_ids}
    candidates = tagged_pids()
    if run_id is not None:
        wanted.add(f"{RUN_TAG}={run_id}".encode())
        candidates |= tagged_pids(f"{RUN_TAG}=".encode())
    found = {}
    for pid, cmd in candidates.items():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted.intersection(environ):
            found[pid] = cmd
    return found


def kill_leftovers(session_ids: set[str], run_id: str | None = None) -> dict[int, str]:
    """SIGKILL anything still tagged with one of our sessions or with this run; return
    what was found."""
    left = _exact_tagged(session_ids, run_id)
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return left


def tagged_exact(session_id: str) -> dict[int, str]:
    """Processes tagged with exactly this session."""
    return _exact_tagged({session_id})


def build_userplane(config: OqtoConfig) -> LocalUserPlane:
    """The `LocalUserPlane` exactly as `oqto serve --single-user` builds it from the same
    config."""
    paths = resolve_paths(config)
    return local_userplane(config, runtime_dir=paths.runtime_dir, log_dir=paths.log_dir)


# -- finding a session's services --------------------------------------------------------


def session_sockets(server: OqtoServer, session_id: str) -> SessionLayout:
    """The user plane's own layout of a session's runtime directory under this server,
    for its socket paths (the workspace and log paths in it are not the session's)."""
    return SessionLayout(
        session_id=session_id,
        workspace=server.workspaces,
        runtime_dir=server.runtime / session_id,
        log_dir=server.root,
    )


@dataclass(frozen=True)
class AgentEndpoint:
    """How a client on this host reaches a session's opencode: the sandbox init's Unix
    socket relay when opencode has its own network namespace (no port on the host), else
    the port it listens on on the host's loopback (network `host`, or no sandbox)."""

    username: str
    password: str
    socket: Path | None
    port: int | None

    @property
    def path(self) -> str:
        return "unix" if self.socket is not None else "tcp"

    def client(self, limits: httpx.Limits, timeout: float = 60) -> httpx.AsyncClient:
        auth = (self.username, self.password)
        if self.socket is not None:
            return httpx.AsyncClient(
                base_url="http://agent",
                transport=httpx.AsyncHTTPTransport(uds=str(self.socket), limits=limits),
                auth=auth,
                timeout=timeout,
            )
        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}", auth=auth, limits=limits, timeout=timeout
        )


def agent_endpoint(server: OqtoServer, session_id: str) -> AgentEndpoint:
    """The session's opencode as the user plane reaches it. The Basic-auth password comes
    from opencode's environment in /proc (we run as the same account, which is exactly who
    may read it); bubblewrap and the init carry the same environment, so every tagged
    process with the password is searched for the listening port."""
    password, username, ports = None, "opencode", set()
    for pid in tagged_exact(session_id):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        env = dict(v.decode(errors="replace").partition("=")[::2] for v in environ if b"=" in v)
        if "OPENCODE_SERVER_PASSWORD" not in env:
            continue
        password = env["OPENCODE_SERVER_PASSWORD"]
        username = env.get("OPENCODE_SERVER_USERNAME", username)
        ports.update(loopback_listen_ports(pid))
    if password is None:
        raise RuntimeError(f"no opencode process found for session {session_id}")
    relay = session_sockets(server, session_id).agent_socket
    if relay.is_socket():
        return AgentEndpoint(username, password, socket=relay, port=None)
    if len(ports) != 1:
        raise RuntimeError(f"opencode of session {session_id} listens on {sorted(ports)}")
    return AgentEndpoint(username, password, socket=None, port=ports.pop())


# -- a running session -------------------------------------------------------------------


@dataclass
class Session:
    """A session started through the API, and how to reach each of its services."""

    server: OqtoServer
    token: str
    id: str
    workspace: str
    sandbox: dict[str, Any]  # how the session is confined, as the API reports it
    files_socket: Path
    terminal_socket: Path
    agent: AgentEndpoint

    @property
    def workspace_dir(self) -> Path:
        """Where the workspace is on disk (`OqtoServer`'s workspace root is `ws/{user}`;
        a single-user server's user is its first administrator)."""
        return self.server.workspaces / "admin" / self.workspace

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def base(self) -> str:
        """The session's path prefix on the control plane."""
        return f"/api/sessions/{self.id}"


async def start_session(
    bench: BenchEnv,
    profile: str,
    workspace: str = "bench-proxy",
    server: OqtoServer | None = None,
    token: str | None = None,
) -> Session:
    """A server under the admin sandbox file `profile` (one of SANDBOX_FILES; or `server`,
    already running) with one running session. Several sessions started at once on one
    server pass one `token`: concurrent logins from one client are throttled."""
    if server is None:
        server = await asyncio.to_thread(
            bench.server, f"server-{profile}", sandbox=SANDBOX_FILES[profile]
        )
    token = token or await asyncio.to_thread(server.login)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        response = await client.post("/api/sessions", json={"workspace": workspace})
        response.raise_for_status()
        session_id = response.json()["id"]
        bench.session_ids.add(session_id)
        began = time.perf_counter()
        while True:
            body = (await client.get(f"/api/sessions/{session_id}")).json()
            if body["status"] == "running":
                break
            if body["status"] == "failed" or time.perf_counter() - began > 300:
                raise RuntimeError(f"session did not start: {body}")
            await asyncio.sleep(0.05)
    layout = session_sockets(server, session_id)
    return Session(
        server=server,
        token=token,
        id=session_id,
        workspace=workspace,
        sandbox=body.get("sandbox") or {},
        files_socket=layout.files_socket,
        terminal_socket=layout.terminal_socket,
        agent=agent_endpoint(server, session_id),
    )
