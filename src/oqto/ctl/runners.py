"""`oqtoctl runner ...`"""

from __future__ import annotations

import subprocess
from typing import Annotated, Any

import typer
from sqlalchemy import select

from oqto.ctl.context import Ctl, ctl, require_root
from oqto.ctl.output import StepPrinter, emit_json, fail, out, table
from oqto.ctl.users import runner_info
from oqto.db.models import User
from oqto.osutil.accounts import LinuxAccount, lookup
from oqto.provisioning import runner, systemd, users
from oqto.provisioning.host import LinuxUser
from oqto.provisioning.steps import StepFailed, Transaction

app = typer.Typer(rich_markup_mode=None, help="Per-user runners.", no_args_is_help=True)


def user_account(c: Ctl, name: str) -> tuple[User, LinuxAccount]:
    """The platform user `name` and their Linux account, or a clean failure."""
    with c.db(create=False) as db:
        row = users.find_user(db, name)
    if row is None:
        raise fail(f"no user {name!r}")
    account = lookup(row.linux_user) if row.linux_user else None
    if account is None:
        raise fail(f"user {name!r} has no Linux account; run: oqtoctl user create {name}")
    if account.uid != row.linux_uid:
        raise fail(f"Linux account {account.name!r} has uid {account.uid}, not {row.linux_uid}")
    return row, account


@app.command()
def status(
    context: typer.Context,
    name: Annotated[str | None, typer.Argument(help="One user (default: all).")] = None,
    json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ping each runner over its socket; show its systemd state where there is systemd."""
    c = ctl(context)
    if name is not None:
        rows = [user_account(c, name)[0]]
    else:
        with c.db(create=False) as db, db() as session:
            rows = list(
                session.scalars(
                    select(User).where(User.linux_user.is_not(None)).order_by(User.username)
                )
            )
    infos: list[dict[str, Any]] = [
        {"username": r.username, "linux_user": r.linux_user} | runner_info(c, r) for r in rows
    ]
    if json:
        emit_json(infos)
    else:
        table(
            ["user", "linux user", "runner", "systemd", "socket"],
            [
                (
                    i["username"],
                    i["linux_user"],
                    f"ok ({i['version']})" if i["answers"] else f"DOWN: {i['error']}",
                    (i.get("systemd") or {}).get("active", "not used"),
                    i["socket"],
                )
                for i in infos
            ],
        )
    if not all(i["answers"] for i in infos):
        raise typer.Exit(1)


def _runners_exist(c: Ctl) -> None:
    if c.single_user:
        raise fail(f"this is a {c.mode}: it has no runners (its sessions run in oqto serve)")


@app.command()
def restart(context: typer.Context, name: str) -> None:
    """Restart a user's runner. Its sessions keep running and are re-adopted."""
    c = ctl(context)
    _runners_exist(c)
    require_root("restarting runners")
    _row, account = user_account(c, name)
    host = c.host()
    timeout = host.provisioning.runner_start_timeout_seconds
    try:
        with out.status(f"restarting the runner of {name} ({account.name}) ..."):
            host.launcher.restart(account, host)
        pong = runner.wait_answering(host.runner_socket(account), account.uid, timeout)
    except (systemd.SystemdError, runner.RunnerError) as exc:
        raise fail(f"restarting the runner of {name} failed: {exc}") from None
    out.print(f"Runner of {name} restarted and answers (oqto {pong.version})")


@app.command()
def logs(
    context: typer.Context,
    name: str,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 50,
) -> None:
    """Show a user's runner log (journald, or the log file without systemd)."""
    c = ctl(context)
    _row, account = user_account(c, name)
    host = c.host()
    argv = host.launcher.log_command(account, host, lines, follow)
    raise typer.Exit(subprocess.run(argv, check=False).returncode)


@app.command()
def start(context: typer.Context, name: str) -> None:
    """Make sure a user's runner runs.

    Lingering plus the runner user service (or, without systemd, a runner started
    directly). The deprecated oqto-agent@.service calls this."""
    c = ctl(context)
    _runners_exist(c)
    require_root("starting runners")
    _row, account = user_account(c, name)
    host = c.host()
    user = LinuxUser(account.name, account=account)
    steps = host.launcher.steps(user, host)  # the account and its home exist already
    try:
        Transaction(progress=StepPrinter(len(steps))).run(steps)
    except StepFailed as exc:
        raise fail(f"starting the runner of {name} failed at {exc.title!r}: {exc.cause}") from None
    out.print(f"Runner of {name} runs")
