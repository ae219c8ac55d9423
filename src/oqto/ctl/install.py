"""`oqtoctl install-units`: put the systemd units, the tmpfiles snippet and (if missing) a
default config in place, the equivalent of the deployment guide's `cp` commands."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from oqto.config.paths import SYSTEM_CONFIG
from oqto.ctl.context import ctl, require_root
from oqto.ctl.output import fail, note, out
from oqto.db.models import User
from oqto.osutil.accounts import lookup
from oqto.provisioning import systemd
from oqto.provisioning.asuser import python_as
from oqto.provisioning.database import DatabaseError, open_sessionmaker
from oqto.provisioning.units import (
    GLOBAL_USER_UNIT_DIR,
    RUNNER_UNIT,
    SYSTEM_UNIT_DIR,
    SYSTEM_UNITS,
    TMPFILES,
    TMPFILES_DIR,
    USER_UNITS,
    UnitsNotFound,
    deploy_dir,
    installed_bin_dir,
    render,
    rendered_unit,
    write_if_changed,
)

DEFAULT_CONFIG = """\
# Oqto configuration; every key and its default: see docs/deploy.md and the README.
# Read by oqto.service, oqto-usermgr.service and every user's oqto-runner.service.

[server]
listen = "127.0.0.1:3000"

[backend]
mode = "local"
"""


def _under(root: Path, path: Path) -> Path:
    return root / path.relative_to("/")


def install_files(root: Path, bin_dir: Path) -> list[tuple[Path, bool]]:
    written = []
    source = deploy_dir()
    for name in SYSTEM_UNITS:
        text = render((source / "systemd" / name).read_text(), bin_dir)
        written.append(write_if_changed(_under(root, SYSTEM_UNIT_DIR / name), text))
    for name in USER_UNITS:
        text = render((source / "systemd" / name).read_text(), bin_dir)
        written.append(write_if_changed(_under(root, GLOBAL_USER_UNIT_DIR / name), text))
    tmpfiles = (source / "tmpfiles.d" / TMPFILES).read_text()
    written.append(write_if_changed(_under(root, TMPFILES_DIR / TMPFILES), tmpfiles))
    config = _under(root, SYSTEM_CONFIG)
    if not config.exists():
        written.append(write_if_changed(config, DEFAULT_CONFIG))
    return [(f.path, f.changed) for f in written]


def refresh_user_units(context: typer.Context, bin_dir: Path) -> int:
    """Give every provisioned user the current runner unit; running runners are restarted
    (their sessions keep running). Returns how many changed."""
    c = ctl(context)
    try:
        engine, maker = open_sessionmaker(c.config, create=False, upgrade=False)
    except DatabaseError:
        return 0
    try:
        with maker() as session:
            rows = list(session.scalars(select(User).where(User.linux_user.is_not(None))))
    finally:
        engine.dispose()
    text = rendered_unit(RUNNER_UNIT, bin_dir)
    changed = 0
    for row in rows:
        account = lookup(row.linux_user or "")
        if account is None or account.uid != row.linux_uid:
            continue
        if python_as(account, "install-unit", RUNNER_UNIT, stdin=text).strip() != "changed":
            continue
        changed += 1
        if systemd.private_socket(account.uid).exists():
            systemd.user_systemctl(account, "daemon-reload", check=False)
            systemd.user_systemctl(account, "try-restart", RUNNER_UNIT, check=False)
    return changed


def install_units(
    context: typer.Context,
    root: Annotated[
        Path, typer.Option("--root", help="Install below this directory (for images).")
    ] = Path("/"),
    bin_dir: Annotated[
        Path | None,
        typer.Option("--bin-dir", help="Where oqto, oqtoctl, oqto-runner live (default: found)."),
    ] = None,
) -> None:
    """Install the systemd units, tmpfiles snippet and a default config.

    oqto.service, oqto-usermgr.service and oqto-agent@.service go to /etc/systemd/system,
    oqto-runner.service and oqto-user.service to /etc/systemd/user, oqto.conf to
    /etc/tmpfiles.d, and /etc/oqto/config.toml is written only if there is none."""
    require_root("installing units")
    directory = bin_dir or installed_bin_dir()
    try:
        written = install_files(root, directory)
    except UnitsNotFound as exc:
        raise fail(str(exc)) from None
    for path, changed in written:
        out.print(f"{'installed' if changed else 'unchanged'}  {path}")
    live = root == Path("/") and systemd.booted_with_systemd()
    if not live:
        if root == Path("/"):
            note("no systemd on this host: nothing reloaded")
        return
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemd-tmpfiles", "--create", TMPFILES], check=False)
    refreshed = refresh_user_units(context, directory)
    out.print(f"systemd reloaded; runner unit refreshed for {refreshed} user(s)")
    note("next: systemctl enable --now oqto-usermgr oqto")
