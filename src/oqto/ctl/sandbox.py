"""`oqtoctl sandbox ...`"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from oqto.ctl.context import Ctl, ctl
from oqto.ctl.output import emit_json, fail, fields, note, table
from oqto.ctl.runners import user_account
from oqto.osutil.accounts import LinuxAccount, lookup_uid
from oqto.protocol.sessions import WorkspaceNameError, check_workspace_name
from oqto.provisioning import users
from oqto.provisioning.database import data_dir
from oqto.sandbox.loader import resolve_policy
from oqto.sandbox.merge import RuleSource, expand
from oqto.sandbox.policy import SandboxRefused
from oqto.sandbox.profiles import format_size
from oqto.sandbox.providers import provider_hosts
from oqto.userplane.workspaces import workspace_root

app = typer.Typer(
    rich_markup_mode=None, help="Session sandboxes: the effective policy.", no_args_is_help=True
)
_PATH_RULES = {"deny_read", "allow_write", "deny_write", "extra_ro_bind"}


def _session_account(c: Ctl, name: str) -> LinuxAccount:
    """The account `name`'s sessions run as: their own, or in single-user mode the
    server's (the owner of its data directory)."""
    if not c.config.local.single_user:
        return user_account(c, name)[1]
    with c.db(create=False) as db:
        if users.find_user(db, name) is None:
            raise fail(f"no user {name!r}")
    directory = data_dir(c.config)
    try:
        owner = directory.stat().st_uid
    except OSError as exc:
        raise fail(f"{directory}: {exc.strerror}") from None
    account = lookup_uid(owner)
    if account is None:
        raise fail(f"{directory} belongs to uid {owner}, which has no account")
    return account


def _shown(item: RuleSource, home: Path) -> str:
    """A rule's value for people: paths in the home as `~/...`, sizes with their unit."""
    value = item.value
    if value is None:
        return "no limit"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and item.rule.endswith("memory_max"):
        return format_size(value)
    if item.rule in _PATH_RULES and Path(str(value)).is_relative_to(home):
        return str("~" / Path(str(value)).relative_to(home))
    return str(value)


@app.command()
def show(
    context: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Platform user name.")],
    workspace: Annotated[str, typer.Option("--workspace", help="Workspace name.")],
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The effective sandbox policy of USER's sessions in WORKSPACE, and where each rule
    came from: the admin file, a built-in profile, the user's or the workspace's overlay."""
    c = ctl(context)
    try:
        name = check_workspace_name(workspace)
    except WorkspaceNameError as exc:
        raise fail(f"--workspace: {exc}") from None
    account = _session_account(c, user)
    root = workspace_root(c.config.local.workspace_root, user, home=account.home)
    path = root / name
    opencode_config = c.config.opencode.config_file
    try:
        resolved = resolve_policy(
            c.config.sandbox.config,
            home=account.home,
            workspace=path,
            default_allow_hosts=provider_hosts(
                expand(str(opencode_config), account.home) if opencode_config else None
            ),
        )
    except SandboxRefused as exc:
        raise fail(f"sandbox refused: {exc.message}") from None
    if json:
        emit_json(
            {
                "user": user,
                "linux_user": account.name,
                "home": str(account.home),
                "workspace": str(path),
                "files": list(resolved.files),
                "policy": resolved.policy.model_dump(mode="json"),
                "sources": [asdict(s) for s in resolved.sources],
            }
        )
        return
    fields(
        [
            ("user", f"{user} (runs as {account.name}, home {account.home})"),
            ("workspace", path),
            ("files", ", ".join(resolved.files)),
        ]
    )
    rows = [(s.rule, _shown(s, account.home), s.source) for s in resolved.sources]
    table(["rule", "value", "source"], rows, fold=True)
    if resolved.policy.enabled:
        note("Also hidden in every session: Oqto's own data, state, log and runtime directories.")
