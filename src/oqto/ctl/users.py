"""`oqtoctl user ...`"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Any

import typer
from sqlalchemy import select

from oqto.control import singleuser
from oqto.control.auth.passwords import hash_password
from oqto.ctl.context import Ctl, ctl
from oqto.ctl.output import StepPrinter, emit_json, fail, fields, note, out, table
from oqto.ctl.passwords import obtain
from oqto.db.models import Role, User
from oqto.osutil.accounts import lookup
from oqto.protocol.names import NamingError, check_platform_name, linux_name_for
from oqto.provisioning import runner, users
from oqto.provisioning.host import ProvisioningError
from oqto.provisioning.steps import StepFailed

app = typer.Typer(
    rich_markup_mode=None, help="Platform users and their Linux accounts.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
# Deliberately loose: just enough to catch a swapped argument. We never send mail.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _get(c: Ctl, name: str) -> User:
    with c.db(create=False) as db:
        row = users.find_user(db, name)
    if row is None:
        raise fail(f"no user {name!r}")
    return row


def runner_info(c: Ctl, row: User) -> dict[str, Any]:
    """What we can find out about a user's runner without changing anything."""
    info: dict[str, Any] = {"socket": None, "answers": False, "version": None, "error": None}
    if row.linux_user is None:
        info["error"] = "no Linux account"
        return info
    account = lookup(row.linux_user)
    if account is None or account.uid != row.linux_uid:
        info["error"] = f"Linux account {row.linux_user!r} is missing or has another uid"
        return info
    host = c.host()
    path = host.runner_socket(account)
    info["socket"] = str(path)
    try:
        pong = runner.ping(path, account.uid, timeout=3)
        info.update(answers=True, version=pong.version)
    except runner.RunnerError as exc:
        info["error"] = str(exc)
    return info | host.launcher.describe(account)


def user_json(row: User) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "email": row.email,
        "role": row.role.value,
        "disabled": row.disabled,
        "linux_user": row.linux_user,
        "linux_uid": row.linux_uid,
        "created_at": row.created_at.isoformat(),
    }


@app.command()
def create(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="Platform user name.")],
    email: Annotated[str, typer.Option("--email", help="Contact address.")],
    role: Annotated[Role, typer.Option("--role")] = Role.USER,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    linux_user: Annotated[
        str | None,
        typer.Option("--linux-user", help="Linux account name (default: prefix + NAME)."),
    ] = None,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Use the existing account --linux-user although Oqto did not create it "
            "(e.g. a runner unit installed by hand); delete keeps it.",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Create a platform user with its Linux account and runner.

    In order: the Linux user, its home from the skeleton, lingering, the runner user
    service, the database entry, a check that the runner answers. Each step is idempotent;
    on a failure everything this run did is rolled back."""
    c = ctl(context)
    c.require_root("creating users")
    if c.config.local.single_user:
        raise fail(singleuser.explanation("oqtoctl user create"))
    if adopt and linux_user is None:
        raise fail("--adopt needs --linux-user: name the account to adopt explicitly")
    if not _EMAIL.fullmatch(email):
        raise fail(f"--email {email!r} does not look like an e-mail address")
    host = c.host()
    if not host.launcher.systemd:
        note(
            "No systemd on this host (containers, CI): lingering and the runner user service "
            "are replaced by /run/user/UID and a runner started directly as the user; it will "
            "not come back after a reboot by itself (oqtoctl runner start NAME)."
        )
    with c.db() as db:
        with db() as session:
            existing = session.scalar(select(User).where(User.username == name))
        # A re-run keeps the account the user already has unless told otherwise.
        chosen = linux_user or (existing.linux_user if existing else None)
        try:
            linux_name = linux_name_for(name, c.config.provisioning.linux_user_prefix, chosen)
        except NamingError as exc:
            raise fail(str(exc)) from None
        generated = False
        if existing is None:
            password, generated = obtain(password_stdin)
            password_hash = hash_password(password)
        else:
            password, password_hash = "", existing.password_hash
        new = users.NewUser(name, linux_name, password_hash, role, email, adopt)
        printer = StepPrinter(total=6)
        try:
            with printer.active():
                linux, register = users.create_user(db, new, host, printer)
        except StepFailed as exc:
            raise fail(f"user create {name} failed at step {exc.title!r}: {exc.cause}") from None
    account = linux.require()
    result = {
        "username": name,
        "linux_user": account.name,
        "uid": account.uid,
        "home": str(account.home),
        "created": register.created,
        "runner_socket": str(host.runner_socket(account)),
        "systemd": host.launcher.systemd,
        "password": password if generated else None,
    }
    if json:
        emit_json(result)
        return
    verb = "Created" if register.created else "Already set up:"
    out.print(f"{verb} user [bold]{name}[/] (Linux account {account.name}, uid {account.uid})")
    if generated:
        out.print(f"Password (shown once): [bold]{password}[/]")


@app.command("list")
def list_users(context: typer.Context, json: JsonOpt = False) -> None:
    """All platform users."""
    with ctl(context).db(create=False) as db, db() as session:
        rows = list(session.scalars(select(User).order_by(User.username)))
    if json:
        emit_json([user_json(r) for r in rows])
        return
    table(
        ["user", "role", "state", "email", "linux user", "uid"],
        [
            (
                r.username,
                r.role.value,
                "disabled" if r.disabled else "active",
                r.email,
                r.linux_user,
                r.linux_uid,
            )
            for r in rows
        ],
    )


@app.command()
def show(context: typer.Context, name: str, json: JsonOpt = False) -> None:
    """One user, with its runner's state."""
    c = ctl(context)
    row = _get(c, name)
    data = user_json(row) | {"runner": runner_info(c, row)}
    if json:
        emit_json(data)
        return
    r = data["runner"]
    fields(
        [
            ("user", row.username),
            ("role", row.role.value),
            ("state", "disabled" if row.disabled else "active"),
            ("email", row.email),
            ("linux user", f"{row.linux_user} (uid {row.linux_uid})" if row.linux_user else None),
            ("created", row.created_at.isoformat(timespec="seconds")),
            ("runner socket", r["socket"]),
            ("runner", f"answers (oqto {r['version']})" if r["answers"] else r["error"]),
            ("systemd", (r.get("systemd") or {}).get("active", "not used")),
        ]
    )


def _set_disabled(context: typer.Context, name: str, disabled: bool) -> None:
    c = ctl(context)
    c.require_root("changing users")
    row = _get(c, name)
    with c.db() as db:
        revoked = users.set_disabled(db, row.id, disabled)
    stopped: list[str] = []
    account = lookup(row.linux_user) if row.linux_user else None
    if disabled and account is not None and account.uid == row.linux_uid:
        stopped = users.stop_sessions(account, c.host())
    if disabled:
        out.print(f"Disabled {name}: {revoked} login(s) revoked, {len(stopped)} session(s) stopped")
    else:
        out.print(f"Enabled {name}")


@app.command()
def disable(context: typer.Context, name: str) -> None:
    """Refuse logins, revoke tokens and stop the user's sessions (nothing is deleted)."""
    _set_disabled(context, name, True)


@app.command()
def enable(context: typer.Context, name: str) -> None:
    """Allow a disabled user to log in again."""
    _set_disabled(context, name, False)


@app.command()
def delete(
    context: typer.Context,
    name: str,
    keep_home: Annotated[bool, typer.Option("--keep-home", help="Keep /home/...")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    linux_user: Annotated[
        str | None,
        typer.Option("--linux-user", help="Also/only remove this Linux account (if ours)."),
    ] = None,
) -> None:
    """Delete a user, its runner, sessions and Linux account.

    Stops everything the account runs, removes the database user, then the Linux account
    and its home (unless --keep-home)."""
    c = ctl(context)
    c.require_root("deleting users")
    if c.config.local.single_user:
        raise fail(singleuser.explanation("oqtoctl user delete"))
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Delete user {name} and everything it runs?", abort=True)
    try:
        check_platform_name(name)
    except NamingError:
        if linux_user is None:
            raise fail(f"invalid user name {name!r}") from None
    with c.db() as db:
        try:
            removal = users.remove_user(
                db, name, c.host(), keep_home=keep_home, linux_user=linux_user
            )
        except ProvisioningError as exc:
            raise fail(str(exc)) from None
    parts = []
    if removal.db_user:
        parts.append("database user")
    if removal.account:
        parts.append("Linux account" + ("" if removal.home_kept else " and home"))
    out.print(f"Deleted {name}: {', '.join(parts)}")
    for line in removal.notes:
        out.print(line)
    if removal.home_kept:
        out.print(f"Home kept at {removal.home_kept}")


@app.command()
def passwd(
    context: typer.Context,
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a new password (every existing login of the user is revoked)."""
    c = ctl(context)
    c.require_root("changing passwords")
    row = _get(c, name)
    password, generated = obtain(password_stdin)
    with c.db() as db:
        revoked = users.set_password(db, row.id, hash_password(password))
    out.print(f"Password of {name} changed; {revoked} login(s) revoked")
    if generated:
        out.print(f"New password (shown once): [bold]{password}[/]")
