"""The checks behind `oqtoctl doctor`. Each says what it found and, when it fails, how to
fix it; none of them changes anything."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

from oqto.config import ConfigError, OqtoConfig
from oqto.config.paths import runner_socket_path
from oqto.ctl.context import Ctl, find_install
from oqto.db.engine import alembic_config
from oqto.db.models import User
from oqto.osutil import acl
from oqto.osutil.accounts import lookup
from oqto.provisioning import runner, systemd
from oqto.provisioning.database import DatabaseError, data_dir, open_sessionmaker
from oqto.provisioning.units import CONTROL_UNIT, SYSTEM_UNIT_DIR, USERMGR_UNIT
from oqto.sandbox import preflight
from oqto.sandbox.loader import load_admin
from oqto.sandbox.policy import SandboxRefused
from oqto.sandbox.profiles import DEFAULT_PROFILE

OK, WARN, FAIL = "ok", "warn", "fail"
RUNNER_PATH = "/usr/local/bin:/usr/bin:/bin"
MIN_VERSIONS = {"opencode": (1, 0), "ttyd": (1, 7)}


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _version(text: str) -> tuple[int, ...] | None:
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(p) for p in found.groups() if p is not None) if found else None


def _run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def check_config(explicit: Path | None) -> tuple[Check, Ctl | None]:
    try:
        install = find_install(explicit)
    except ConfigError as exc:
        return (
            Check("config", FAIL, str(exc), "fix the file named above (oqtoctl config validate)"),
            None,
        )
    where = str(install.config_path) if install.config_path else "no file, defaults"
    found = f"{install.mode}; valid ({where}); data in {install.config.server.data_dir}"
    if install.config_path is None and not install.single_user:
        return (
            Check(
                "config",
                WARN,
                found,
                "create /etc/oqto/config.toml: oqto.service and the runners read it "
                "(oqtoctl install-units writes a default one)",
            ),
            install,
        )
    return Check("config", OK, found), install


def check_database(install: Ctl) -> Check:
    config = install.config
    try:
        engine, _maker = open_sessionmaker(config, create=False, upgrade=False)
    except DatabaseError as exc:
        starts = "oqto serve --single-user" if install.single_user else "oqto.service"
        return Check("database", FAIL, str(exc), f"start {starts} once: it creates it")
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    except Exception as exc:
        return Check("database", FAIL, f"cannot read it: {exc}", "check [database] url")
    finally:
        engine.dispose()
    if current != head:
        return Check(
            "database",
            FAIL,
            f"schema at {current or 'nothing'}, this version needs {head}",
            "restart Oqto's server (it migrates on start), or run any oqtoctl user command",
        )
    return Check("database", OK, f"reachable, schema at {head}")


def check_tool(name: str, binary: str, config_key: str) -> Check:
    """`config_key`: where the config names the program."""
    found = shutil.which(binary, path=RUNNER_PATH) if "/" not in binary else binary
    if found is None or not os.access(found, os.X_OK):
        fix = f"install {name} (scripts/setup.sh does) and set {config_key} to its absolute path"
        return Check(name, FAIL, f"{binary!r} not found on the runners' PATH ({RUNNER_PATH})", fix)
    result = _run([found, "--version"])
    text = (result.stdout + result.stderr) if result else ""
    version = _version(text)
    if version is None:
        return Check(name, FAIL, f"{found}: cannot tell its version", f"reinstall {name}")
    shown = ".".join(map(str, version))
    if version < MIN_VERSIONS[name]:
        want = ".".join(map(str, MIN_VERSIONS[name]))
        return Check(name, FAIL, f"{found} is {shown}, need >= {want}", f"upgrade {name}")
    return Check(name, OK, f"{found} {shown}")


# preflight.check in a child process as an unprivileged account: root may make user
# namespaces where the accounts running sessions cannot (AppArmor's restriction).
_PREFLIGHT = """
import sys
from oqto.sandbox.policy import SandboxRefused
from oqto.sandbox.preflight import check
try:
    check(sys.argv[1])
except SandboxRefused as exc:
    sys.exit(exc.message)
"""


def _sandbox_problem(bwrap: str) -> str | None:
    if os.geteuid() != 0:
        try:
            preflight.check(bwrap)
        except SandboxRefused as exc:
            return exc.message
        return None
    unprivileged = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    result = _run([*unprivileged, sys.executable, "-c", _PREFLIGHT, bwrap])
    if result is None:
        return "setpriv could not run the check as an unprivileged account"
    if result.returncode != 0:
        return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
    return None


def check_sandbox(config: OqtoConfig) -> Iterator[Check]:
    """The admin policy file parses, and bwrap can make a sandbox as an unprivileged account."""
    path = config.sandbox.config
    fix = f"fix {path} (docs/sandbox.md lists its keys)"
    try:
        admin = load_admin(path)
    except SandboxRefused as exc:
        yield Check("sandbox policy", FAIL, exc.message, fix)
    else:
        if admin is None:
            yield Check("sandbox policy", OK, f"no {path}: built-in profile {DEFAULT_PROFILE}")
        elif not admin.enabled:
            yield Check(
                "sandbox policy",
                WARN,
                f"{path}: enabled = false: sessions run unconfined",
                f"remove `enabled = false` from {path}",
            )
            return
        else:
            yield Check("sandbox policy", OK, f"{path} valid, profile {admin.profile}")
    problem = _sandbox_problem(config.sandbox.bwrap)
    if problem is not None:
        yield Check(
            "user namespaces", FAIL, problem, "as said; sessions refuse to start until then"
        )
    else:
        yield Check(
            "user namespaces", OK, f"{config.sandbox.bwrap} sandboxes an unprivileged account"
        )


def check_systemd(users: list[User]) -> Iterator[Check]:
    if not systemd.booted_with_systemd():
        yield Check(
            "systemd",
            WARN,
            "not booted with systemd: runners were started directly and do not come back "
            "after a reboot by themselves",
            "on a container host, run `oqtoctl runner start NAME` for each user at start",
        )
        return
    for unit in (CONTROL_UNIT, USERMGR_UNIT):
        installed = any((d / unit).exists() for d in (SYSTEM_UNIT_DIR, Path("/lib/systemd/system")))
        result = _run(["systemctl", "is-active", unit])
        active = result.stdout.strip() if result else "unknown"
        if not installed:
            yield Check(unit, FAIL, "not installed", "oqtoctl install-units")
        elif active != "active":
            yield Check(
                unit,
                FAIL if unit == CONTROL_UNIT else WARN,
                f"{active}",
                f"systemctl enable --now {unit}; journalctl -u {unit}",
            )
        else:
            yield Check(unit, OK, "active")
    for row in users:
        if row.linux_user and not systemd.linger_enabled(row.linux_user):
            yield Check(
                f"linger {row.linux_user}",
                FAIL,
                "lingering is off: the runner stops at logout and is not started at boot",
                f"loginctl enable-linger {row.linux_user}",
            )
    if users and all(r.linux_user and systemd.linger_enabled(r.linux_user) for r in users):
        yield Check("linger", OK, f"on for all {len(users)} users")


def _named_perms(path: Path, uid: int) -> int:
    entries = acl.read_acl(path)
    mask = next((e.perms for e in entries if e.tag is acl.AclTag.MASK), 7)
    named = next((e.perms for e in entries if e.tag is acl.AclTag.USER and e.id == uid), 0)
    return named & mask


def check_runner(row: User, config: OqtoConfig, service_uid: int | None) -> Check:
    name = f"runner {row.username}"
    account = lookup(row.linux_user) if row.linux_user else None
    if account is None or account.uid != row.linux_uid:
        return Check(
            name, FAIL, f"Linux account {row.linux_user!r} missing or recycled", "oqtoctl user show"
        )
    path = runner_socket_path(config.local.runner_socket_pattern, account.uid, account.name)
    restart = f"oqtoctl runner restart {row.username}"
    try:
        st = path.lstat()
        parent = path.parent.stat()
    except OSError as exc:
        return Check(name, FAIL, f"{path}: {exc.strerror}", restart)
    problems = []
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != account.uid:
        problems.append(f"{path} is not a socket owned by {account.name}")
    if parent.st_uid != account.uid or parent.st_mode & 0o007:
        problems.append(f"{path.parent} must be {account.name}'s and closed to others")
    if st.st_mode & 0o007:
        problems.append(f"{path} is open to other accounts (mode {stat.S_IMODE(st.st_mode):o})")
    if service_uid is not None:
        try:
            if _named_perms(path.parent, service_uid) & 1 == 0:
                problems.append(f"the service account cannot enter {path.parent} (ACL)")
            if _named_perms(path, service_uid) & 6 != 6:
                problems.append(f"the service account cannot connect to {path} (ACL)")
        except OSError as exc:
            problems.append(f"cannot read ACLs: {exc}")
    if problems:
        return Check(name, FAIL, "; ".join(problems), restart)
    try:
        pong = runner.ping(path, account.uid, timeout=3)
    except runner.RunnerError as exc:
        return Check(name, FAIL, str(exc), restart)
    return Check(name, OK, f"{path} answers (oqto {pong.version}), owner/mode/ACL right")


def check_service_account(config: OqtoConfig, users: list[User]) -> Iterator[Check]:
    service = config.runner.service_user
    try:
        account = pwd.getpwnam(service)
    except KeyError:
        yield Check(
            "service account",
            FAIL,
            f"{service!r} does not exist",
            f"useradd -r -s /usr/sbin/nologin {service}",
        )
        return
    directory = data_dir(config)
    problems: list[str] = []
    fixes: list[str] = []
    try:
        st = directory.stat()
        if st.st_uid != account.pw_uid or st.st_mode & 0o007:
            problems.append(f"{directory} is not {service}'s alone")
            fixes.append(f"chown {service}:{service} {directory} && chmod 0750 {directory}")
    except OSError as exc:
        problems.append(f"{directory}: {exc.strerror}")
        fixes.append(f"mkdir -p {directory} && chown {service}:{service} {directory}")
    for row in users:
        home = lookup(row.linux_user) if row.linux_user else None
        if home is None:
            continue
        try:
            mode = home.home.stat().st_mode
        except OSError:
            continue
        if mode & 0o077:
            problems.append(f"{home.home} is open to others (mode {stat.S_IMODE(mode):o})")
            fixes.append(f"chmod 0700 {home.home}")
        if home.gid == account.pw_gid:
            problems.append(f"{home.name} is in the service group")
            fixes.append(f"usermod -g {home.name} {home.name}")
    if problems:
        yield Check("service account", FAIL, "; ".join(problems), "; ".join(fixes))
    else:
        yield Check(
            "service account",
            OK,
            f"{service} (uid {account.pw_uid}) owns {directory}; platform homes are private",
        )


def run_all(explicit_config: Path | None) -> list[Check]:
    checks: list[Check] = []
    config_check, install = check_config(explicit_config)
    checks.append(config_check)
    if install is None:
        return checks
    config = install.config
    db_check = check_database(install)
    checks.append(db_check)
    users: list[User] = []
    if db_check.status == OK:
        engine, maker = open_sessionmaker(config, create=False, upgrade=False)
        try:
            with maker() as session:
                users = list(session.scalars(select(User).where(User.linux_user.is_not(None))))
        finally:
            engine.dispose()
    checks.append(check_tool("opencode", config.opencode.binary, "[opencode] binary"))
    checks.append(check_tool("ttyd", config.ttyd.binary, "[ttyd] binary"))
    checks.extend(check_sandbox(config))
    if install.single_user:
        # No units, service account or runners: the account's own server runs everything.
        return checks
    checks.extend(check_systemd(users))
    checks.extend(check_service_account(config, users))
    try:
        service_uid: int | None = pwd.getpwnam(config.runner.service_user).pw_uid
    except KeyError:
        service_uid = None
    checks.extend(check_runner(row, config, service_uid) for row in users)
    return checks
