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
from oqto.provisioning.linux import LinuxUser, linux_steps
from oqto.provisioning.steps import StepFailed, Transaction
from oqto.provisioning.units import RUNNER_UNIT

app = typer.Typer(help="Per-user runners.", no_args_is_help=True)


def _account(c: Ctl, name: str) -> tuple[User, LinuxAccount]:
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
        rows = [_account(c, name)[0]]
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


@app.command()
def restart(context: typer.Context, name: str) -> None:
    """Restart a user's runner. Its sessions keep running and are re-adopted."""
    require_root("restarting runners")
    c = ctl(context)
    _row, account = _account(c, name)
    host = c.host()
    path = runner.socket_path(host.socket_pattern, account)
    timeout = host.provisioning.runner_start_timeout_seconds
    try:
        if host.use_systemd:
            systemd.start_user_manager(account, timeout)
            with out.status(f"systemctl --user restart {RUNNER_UNIT} ({account.name}) ..."):
                systemd.user_systemctl(account, "restart", RUNNER_UNIT)
        else:
            runner.stop_direct(account)
            runner.start_direct(
                account,
                config=host.config_path,
                service_user=host.service_user,
                log_dir=host.provisioning.runner_log_dir,
                socket=path,
                timeout=timeout,
            )
        pong = runner.wait_answering(path, account.uid, timeout)
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
    _row, account = _account(c, name)
    host = c.host()
    if host.use_systemd:
        # `journalctl --user-unit ... -M alice@` needs a newer systemd than Debian 12's;
        # root can match the user unit's records directly.
        argv = [
            "journalctl",
            f"_SYSTEMD_USER_UNIT={RUNNER_UNIT}",
            f"_UID={account.uid}",
            "-n",
            str(lines),
            "--no-pager",
        ]
    else:
        log = host.provisioning.runner_log_dir / f"{account.name}.log"
        argv = ["tail", "-n", str(lines), str(log)]
    if follow:
        argv.append("-f")
    raise typer.Exit(subprocess.run(argv, check=False).returncode)


@app.command()
def start(context: typer.Context, name: str) -> None:
    """Make sure a user's runner runs.

    Lingering plus the runner user service (or, without systemd, a runner started
    directly). The deprecated oqto-agent@.service calls this."""
    require_root("starting runners")
    c = ctl(context)
    _row, account = _account(c, name)
    host = c.host()
    user = LinuxUser(account.name, account=account)
    steps = linux_steps(user, host)[2:]  # the account and its home exist already
    try:
        Transaction(progress=StepPrinter(len(steps))).run(steps)
    except StepFailed as exc:
        raise fail(f"starting the runner of {name} failed at {exc.title!r}: {exc.cause}") from None
    out.print(f"Runner of {name} runs")
