"""Escape attempts, run inside a session's sandbox by the terminal's shell or the agent's
bash tool, with the host's /usr/bin/python3: `python3 escape_probe.py TARGETS.json MODE`.

Prints one `ESC <check> <verdict> <detail>` line per attempt, then `ESC-END <run>`.
Verdicts in capitals (LEAK, OPEN, WROTE, INJECTED, ALLOWED, VISIBLE) mean the attempt
got through; the tests decide, per profile, which outcome the sandbox promises. What an
attempt leaves on the host (files, connections, processes) is checked there too: a write
that lands in the sandbox's private tmpfs is no escape, and only the host can tell.

Standard library only: it runs on the host's python3, not the tests' virtualenv.
"""

import ctypes
import errno
import fcntl
import glob
import json
import os
import pty
import socket
import subprocess
import sys
import termios
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

CLONE_NEWUSER = 0x10000000
BANNER = b"HOST-LISTENER"

Targets = dict[str, Any]


def say(check: str, verdict: str, detail: str = "") -> None:
    print(f"ESC {check} {verdict} {detail}".rstrip(), flush=True)


def why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return type(exc).__name__


def read_secret(path: str, token: str) -> str:
    """LEAK if `path` can be read and holds the token, else why not."""
    try:
        with open(path, errors="replace") as f:
            return "LEAK" if token in f.read() else "no-token"
    except OSError as exc:
        return why(exc)


def dir_view(path: str) -> str:
    """What listing `path` shows: 'absent', an errno name, 'empty' or its entries."""
    try:
        entries = os.listdir(path)
    except OSError as exc:
        return "absent" if exc.errno == errno.ENOENT else why(exc)
    return ",".join(sorted(entries)) or "empty"


def hidden_or_visible(view: str) -> str:
    return "hidden" if view in ("absent", "empty", "EACCES") else "VISIBLE"


def check_secrets(t: Targets) -> None:
    for i, path in enumerate(t["secret_files"]):
        say(f"secret:{i}", read_secret(path, t["secret"]), path)
    for i, path in enumerate(t["late_files"]):
        say(f"late:{i}", read_secret(path, t["secret"]), path)
    found = glob.glob(os.path.join(t["home"], ".ssh", "id_*"))
    leaked = [p for p in found if read_secret(p, t["secret"]) == "LEAK"]
    say("ssh_glob", "LEAK" if leaked else "hidden", ",".join(found))


def check_other_home(t: Targets) -> None:
    if not t.get("other_home"):
        say("other_home_list", "skipped")
        return
    view = dir_view(t["other_home"])
    say("other_home_list", hidden_or_visible(view), view)
    say("other_home_read", read_secret(t["other_file"], t["secret"]), t["other_file"])


def check_private(t: Targets) -> None:
    for i, path in enumerate(t["private_dirs"]):
        view = dir_view(path)
        say(f"private:{i}", hidden_or_visible(view), f"{path}={view}")


def check_sockets(t: Targets) -> None:
    """Every Unix socket under the runtime root that this service can see."""
    seen = sorted(glob.glob(os.path.join(t["runtime"], "**", "*.sock"), recursive=True))
    say("sockets", "listed", json.dumps(seen))


def try_write(path: str) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        return why(exc)
    try:
        os.write(fd, b"# escaped\n")
        return "WROTE"
    except OSError as exc:
        return why(exc)
    finally:
        os.close(fd)


def check_writes(t: Targets) -> None:
    for i, path in enumerate(t["write_targets"]):
        say(f"write:{i}", try_write(path), path)
    say("overlay_write", try_write(t["overlay"]), t["overlay"])
    overlay_dir = os.path.dirname(t["overlay"])
    try:
        os.rename(overlay_dir, overlay_dir + "-moved")
        say("overlay_rename", "WROTE")
    except OSError as exc:
        say("overlay_rename", why(exc))


def check_processes(t: Targets) -> None:
    pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    visible = False
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                visible = visible or t["sentinel"].encode() in f.read()
        except OSError:
            pass
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True)
    visible = visible or t["sentinel"] in ps.stdout
    say("host_procs", "VISIBLE" if visible else "hidden", f"pids={len(pids)}")
    # Another mount namespace's view through a process that lives there.
    leaked = [
        pid
        for pid in pids
        for path in t["secret_files"]
        if read_secret(f"/proc/{pid}/root{path}", t["secret"]) == "LEAK"
    ]
    say("proc_root", "LEAK" if leaked else "refused", ",".join(leaked))


def tcp(host: str, port: int, banner: bool = True) -> str:
    """OPEN if a connection is accepted (and, with `banner`, the listener answers)."""
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            return "OPEN" if not banner or s.recv(64).startswith(BANNER) else "no-banner"
    except OSError as exc:
        return why(exc)


def proxy_address() -> tuple[str, int] | None:
    url = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    if not url:
        return None
    host, _, port = url.split("://", 1)[-1].rstrip("/").rpartition(":")
    return host, int(port)


def via_proxy(target: str, banner: bool = True) -> str:
    """CONNECT through the session's proxy: OPEN if the tunnel reaches the target."""
    proxy = proxy_address()
    if proxy is None:
        return "no-proxy"
    try:
        with socket.create_connection(proxy, timeout=10) as s:
            s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head and (chunk := s.recv(1024)):
                head += chunk
            status = head.split(b"\r\n", 1)[0].decode(errors="replace")
            if " 200" not in status:
                return "refused:" + status.replace(" ", "_")
            if not banner:
                return "OPEN"
            rest = head.split(b"\r\n\r\n", 1)[-1] or s.recv(64)
            return "OPEN" if rest.startswith(BANNER) else "tunnel-no-banner"
    except OSError as exc:
        return why(exc)


def http_get(url: str, key: str, proxied: bool) -> str:
    handlers = [] if proxied else [urllib.request.ProxyHandler({})]
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=10) as response:
            return "OPEN" if response.status == 200 else f"status:{response.status}"
    except urllib.error.HTTPError as exc:
        return f"http:{exc.code}"
    except urllib.error.URLError as exc:
        return why(exc.reason) if isinstance(exc.reason, BaseException) else str(exc.reason)
    except OSError as exc:
        return why(exc)


def check_network(t: Targets) -> None:
    port = t["listener"]
    say("loopback", tcp("127.0.0.1", port))
    say("loopback_proxy", via_proxy(f"127.0.0.1:{port}"))
    say("control_plane", tcp("127.0.0.1", t["server_port"], banner=False))
    say("control_plane_proxy", via_proxy(f"127.0.0.1:{t['server_port']}", banner=False))
    if t.get("host_ip"):
        say("host_ip", tcp(t["host_ip"], port))
        say("host_ip_proxy", via_proxy(f"{t['host_ip']}:{port}"))
    say("internet_proxy", via_proxy("example.com:443", banner=False))
    models = t["llm"] + "/models"
    say("llm_proxy", http_get(models, t["api_key"], proxied=True))
    say("llm_direct", http_get(models, t["api_key"], proxied=False))
    curl = ["curl", "-sS", "--max-time", "10", "-H", f"Authorization: Bearer {t['api_key']}"]
    got = subprocess.run([*curl, models], capture_output=True, text=True)
    say("llm_curl", "OPEN" if t["model"] in got.stdout else "failed", got.stderr.strip()[:80])
    got = subprocess.run([*curl, "--noproxy", "*", models], capture_output=True, text=True)
    say("llm_curl_direct", "OPEN" if t["model"] in got.stdout else "refused")


def tiocsti(fd: int) -> str:
    try:
        fcntl.ioctl(fd, termios.TIOCSTI, b"#")
        return "INJECTED"
    except OSError as exc:
        return why(exc)


def check_tiocsti() -> None:
    say("tiocsti_tty", tiocsti(0) if os.isatty(0) else "notty")
    # On a terminal that is the caller's own controlling one (the kernel's condition for
    # TIOCSTI), so that only the sandbox's filter can refuse it.
    pid, fd = pty.fork()
    if pid == 0:
        os._exit(0 if tiocsti(0) == "INJECTED" else 1)
    _, status = os.waitpid(pid, 0)
    os.close(fd)  # only now: closing the master first would hang the child up
    code = os.waitstatus_to_exitcode(status)
    say("tiocsti_pty", "INJECTED" if code == 0 else "refused", f"exit={code}")


def check_userns() -> None:
    rc = subprocess.run(["unshare", "-U", "true"], capture_output=True).returncode
    say("unshare_cmd", "ALLOWED" if rc == 0 else "refused", f"rc={rc}")
    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(CLONE_NEWUSER) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    say("unshare_call", "ALLOWED" if os.waitstatus_to_exitcode(status) == 0 else "refused")


def check_symlink(t: Targets, mode: str) -> None:
    link = os.path.join(t["workspace"], f"link-ssh-{mode}")
    if not os.path.lexists(link):
        os.symlink(os.path.join(t["home"], ".ssh"), link)
    leaked = [p for p in glob.glob(link + "/id_*") if read_secret(p, t["secret"]) == "LEAK"]
    say("symlink", "LEAK" if leaked else "hidden", dir_view(link))


def run(cmd: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def check_allowed(t: Targets, mode: str) -> None:
    work = os.path.join(t["workspace"], f"allowed-{mode}")
    os.makedirs(work, exist_ok=True)
    note = os.path.join(work, "note.txt")
    with open(note, "w") as f:
        f.write("one\n")
    with open(note, "a") as f:
        f.write("two\n")
    with open(note) as f:
        say("edit", "ok" if f.read() == "one\ntwo\n" else "failed")
    with open(os.path.join(work, "hello.py"), "w") as f:
        f.write("print('built')\n")
    with open(os.path.join(work, "Makefile"), "w") as f:
        f.write("out.txt: hello.py\n\tpython3 -m compileall -q .\n\tpython3 hello.py > out.txt\n")
    made = run(["make"], work)
    built = os.path.exists(os.path.join(work, "out.txt")) and glob.glob(work + "/__pycache__/*")
    say("build", "ok" if made.returncode == 0 and built else "failed", made.stderr[-120:])
    ident = ["-c", "user.name=Escape Test", "-c", "user.email=escape@example.invalid"]
    steps = [
        ["git", "init", "-q"],
        ["git", "add", "."],
        ["git", *ident, "commit", "-q", "-m", "in the sandbox"],
        ["git", "log", "--format=%s"],
    ]
    results = [run(step, work) for step in steps]
    good = all(r.returncode == 0 for r in results) and "in the sandbox" in results[-1].stdout
    say("git", "ok" if good else "failed", " ".join(r.stderr.strip() for r in results)[-160:])


def spawn_daemons(t: Targets, mode: str) -> None:
    """Two ways out of a session's process tree: setsid+nohup without the session tag,
    and a double fork into a new session with an empty environment."""
    base = f"{t['daemon']}-{mode}"
    sleeper = "import time; time.sleep(1000)"
    subprocess.run(
        f"env -u OQTO_SESSION_ID setsid nohup /usr/bin/python3 -c '{sleeper}' {base}-a "
        ">/dev/null 2>&1 </dev/null &",
        shell=True,
        check=True,
    )
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.execve("/usr/bin/python3", ["/usr/bin/python3", "-c", sleeper, f"{base}-b"], {})
        os._exit(0)
    os.wait()
    say("daemons", "spawned", base)


def main() -> None:
    with open(sys.argv[1]) as f:
        t: Targets = json.load(f)
    mode = sys.argv[2]
    checks: list[Callable[[], None]] = [
        lambda: check_secrets(t),
        lambda: check_other_home(t),
        lambda: check_private(t),
        lambda: check_sockets(t),
        lambda: check_writes(t),
        lambda: check_processes(t),
        lambda: check_network(t),
        check_tiocsti,
        check_userns,
        lambda: check_symlink(t, mode),
        lambda: check_allowed(t, mode),
        lambda: spawn_daemons(t, mode),
    ]
    for check in checks:
        try:
            check()
        except Exception as exc:  # one broken attempt must not hide the others
            say("error", type(exc).__name__, str(exc)[:200].replace("\n", " "))
    print(f"ESC-END {t['run']}", flush=True)


if __name__ == "__main__":
    main()
