"""Bubblewrap's command line for one service of a session, from its effective policy.

The namespaces: a user namespace (the init's seccomp filter refuses nested ones),
private IPC, UTS and (where the kernel has it) cgroup namespace, every capability
dropped, a private PID namespace with a fresh /proc when the policy asks for it, and a
network namespace with only loopback unless the network mode is `host`. The agent and
the file server also get a new session (no controlling terminal to inject into); the
terminal keeps its own and relies on the init's seccomp filter for that. bwrap always
sets no_new_privs.

The filesystem is the host's, read-only, with a fresh /dev, /tmp and /dev/shm, and on
top of it, each rule at its own path:

- every place homes live (the home's parent, and `home_roots`: /home, /root, the
  provisioning home base) is an empty tmpfs, with the own home bound back read-only
  where it lies beneath one (other users' homes are hidden); Oqto's private dirs
  (`hidden`) are masked;
- the workspace, each `allow_write` path and the service's own runtime dirs are bound
  read-write; `extra_ro_bind` paths are bound read-only (back into view);
- each `deny_write` path (and every `protected` one, `~/.config/oqto` and the
  workspace's `.oqto`) is bound read-only over itself;
- each `deny_read` path is masked: an empty tmpfs over a dir, /dev/null over a file.

Which rule wins at a path is decided before anything is mounted: `deny_read` drops every
bind at or beneath it (the service's own runtime dirs excepted: they hold nothing but
its socket), a hidden dir drops every bind beneath it but the workspace and the own
dirs, and `deny_write` drops every read-write bind at or beneath it. What is left needs
no precedence at run time, so after the system mounts (`/`, /dev, /proc, /tmp,
/dev/shm) the rules' mounts are ordered by one rule: shallower paths first
(a later mount covers an earlier one beneath it), and at the same depth re-exposing
binds, then read-write binds, then read-only binds, then masks; ties by path, so the
argv is deterministic.

Paths that do not exist are skipped (a read-only parent keeps the sandbox from making
them), except beneath the home: writable ones are created 0700 (so opencode's own dirs
work from the first start), and so are the two `.oqto` config dirs and every missing
`deny_read` path (an empty dir, or an empty 0600 file for a known secret file): the
sandbox's read-only home is a live view, so a secret its owner creates later, outside,
would otherwise show. Nothing outside the home and the workspace is ever created. A
writable path reached through a symlink beneath the home or the workspace is refused: a
previous session could have planted that link to make, say, `~/.local/bin` writable in
the next one.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from oqto.protocol.sessions import ServiceName
from oqto.sandbox.policy import NetworkMode, SandboxPolicy, SandboxRefused
from oqto.sandbox.profiles import SECRET_FILES

# The service's config dirs that no sandboxed process may change (the overlays live there).
USER_CONFIG_DIR = Path(".config/oqto")
WORKSPACE_CONFIG_DIR = Path(".oqto")


# Every sandbox's namespaces and capabilities, whatever the policy.
ALWAYS = (
    # Not --disable-userns: it writes /proc/sys/user/max_user_namespaces, read-only
    # inside many containers (systemd-nspawn, Docker); the init's seccomp filter refuses
    # new user namespaces everywhere instead.
    "--unshare-user",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--cap-drop",
    "ALL",
)

# Mounted fresh and empty before every rule (see build_argv).
_FRESH = {Path("/tmp"), Path("/dev/shm")}  # noqa: S108


@dataclass(frozen=True)
class SandboxContext:
    """Where one service of a session runs; paths are absolute."""

    home: Path
    workspace: Path
    service: ServiceName
    # Runtime subdirs bound read-write at the same path: the service's own (its socket),
    # plus the egress proxy's for the agent and the terminal.
    own_dirs: tuple[Path, ...] = ()
    # Oqto's private dirs (data dir, runtime root, runner state, logs): always masked.
    hidden: tuple[Path, ...] = ()
    # Always read-only (the admin's sandbox file, ...); duplicates of deny_write are fine.
    protected: tuple[Path, ...] = ()
    # Where homes live (/home, /root, the provisioning home base): each is masked, with the
    # own home bound back if it lies beneath one, as the home's own parent always is.
    home_roots: tuple[Path, ...] = ()
    # The service must survive whoever started it: a runner restarts (or is upgraded)
    # under running sessions and re-adopts them. Otherwise (a single-user server) it dies
    # with its parent, so a server that crashed leaves nothing running.
    outlives_parent: bool = False


class _Kind(enum.IntEnum):
    """At one depth, in this order."""

    REEXPOSE = 0  # read-only bind back into view (own home, extra_ro_bind)
    WRITABLE = 1
    READONLY = 2  # deny_write / protected
    MASK = 3


@dataclass(frozen=True, order=True)
class _Mount:
    depth: int
    kind: _Kind
    path: Path
    is_dir: bool = True

    def argv(self) -> list[str]:
        p = str(self.path)
        if self.kind is _Kind.WRITABLE:
            return ["--bind", p, p]
        if self.kind is _Kind.MASK:
            return ["--tmpfs", p] if self.is_dir else ["--ro-bind", "/dev/null", p]
        return ["--ro-bind", p, p]


def _at_or_beneath(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _beneath(path: Path, roots: Iterable[Path]) -> bool:
    return any(root in path.parents for root in roots)


def _nearest(path: Path, masks: set[Path], binds: set[Path]) -> _Kind | None:
    """Whether the closest mount at or above `path` masks it or binds it (None: neither)."""
    for ancestor in (path, *path.parents):
        if ancestor in masks:
            return _Kind.MASK
        if ancestor in binds:
            return _Kind.WRITABLE
    return None


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _mount(kind: _Kind, path: Path) -> _Mount:
    return _Mount(len(path.parts), kind, path, is_dir=not path.exists() or path.is_dir())


def _ensure_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a dangling symlink in its place
        raise SandboxRefused(f"{path}: cannot create it to bind it: {exc.strerror}") from None


_FILE_NAMES = frozenset(Path(p).name for p in SECRET_FILES)


def _placeholder(path: Path, home: Path) -> None:
    """Create a missing `deny_read` path beneath the home (an empty private file for a
    known secret file, else a directory), so that it exists to be masked: its owner could
    otherwise create it later, outside, where the session's live view of the home shows
    it. Refused if a symlink on the way would put it anywhere else."""
    if home not in path.parents or path.exists() or path.is_symlink():
        return
    _ensure_dir(path.parent)
    if _real(path.parent) != path.parent:
        raise SandboxRefused(f"{path} is reached through a symlink; cannot mask it")
    try:
        if path.name in _FILE_NAMES:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600))
        else:
            path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise SandboxRefused(f"{path}: cannot create it to mask it: {exc.strerror}") from None


def _writable(path: Path, trees: tuple[tuple[Path, Path], ...]) -> Path | None:
    """The path to bind read-write, creating it beneath the home; None if it does not exist
    and may not be created. `trees` are (given, real) pairs of the home and workspace."""
    for given, real in trees:
        if path != given and given not in path.parents:
            continue
        target = real / path.relative_to(given)
        existing = next(p for p in (target, *target.parents) if p.exists())
        if _real(existing) != existing:
            raise SandboxRefused(
                f"{path} is reached through a symlink (to {_real(existing)}); "
                "a writable path must be a real directory"
            )
        if existing != target:
            if given != trees[0][0]:
                return None
            _ensure_dir(target)
        return target
    return _real(path) if path.exists() else None


def _planned(policy: SandboxPolicy, ctx: SandboxContext) -> list[_Mount]:
    home, workspace = _real(ctx.home), _real(ctx.workspace)
    trees = ((ctx.home, home), (ctx.workspace, workspace))
    config_dirs = (home / USER_CONFIG_DIR, workspace / WORKSPACE_CONFIG_DIR)
    for d in config_dirs:
        _ensure_dir(d)

    for p in policy.deny_read:
        _placeholder(p if not p.is_relative_to(ctx.home) else home / p.relative_to(ctx.home), home)
    deny_read = {_real(p) for p in policy.deny_read}
    hidden = {_real(p) for p in ctx.hidden}
    deny_write = {_real(p) for p in (*policy.deny_write, *ctx.protected, *config_dirs)}
    own = {_real(p) for p in ctx.own_dirs}

    # Filtered before _writable, which creates what it keeps.
    allowed = [
        p for p in policy.allow_write if not _at_or_beneath(_real(p), deny_read | deny_write)
    ]
    writable = {workspace} | {w for p in allowed if (w := _writable(p, trees)) is not None}
    writable = {
        w
        for w in writable
        if not _at_or_beneath(w, deny_read | deny_write)
        and (w == workspace or not _beneath(w, hidden))
    } | own
    reexposed = {_real(p) for p in policy.extra_ro_bind if p.exists()}
    masks = {p for p in deny_read | hidden if p.exists()}
    for root in {home.parent, *(_real(r) for r in ctx.home_roots)} - {Path("/")}:
        if root == home or _at_or_beneath(root, {home}) or not root.exists():
            continue
        masks.add(root)
        if root in home.parents:
            reexposed.add(home)
    reexposed = {
        p for p in reexposed if not _at_or_beneath(p, deny_read) and not _beneath(p, hidden)
    }
    # A mask inside what is already masked (nothing bound in between) adds nothing but
    # its mount point: an empty dir that would show the hidden dir's layout.
    shown = writable | reexposed
    masks = {m for m in masks if _nearest(m.parent, masks, shown) is not _Kind.MASK}
    # Read-only only makes read-only what is visible: never a path under a mask.
    readonly = {
        p
        for p in deny_write
        if p.exists() and _nearest(p, masks | _FRESH, writable | reexposed) is not _Kind.MASK
    }

    mounts = {_mount(_Kind.REEXPOSE, p) for p in reexposed - writable}
    mounts |= {_mount(_Kind.WRITABLE, p) for p in writable}
    mounts |= {_mount(_Kind.READONLY, p) for p in readonly}
    mounts |= {_mount(_Kind.MASK, p) for p in masks}
    return sorted(mounts)


def build_argv(bwrap: str, policy: SandboxPolicy, ctx: SandboxContext) -> list[str]:
    """bwrap and its options, up to and including `--`: the command follows."""
    argv = [bwrap, *ALWAYS]
    if not ctx.outlives_parent:
        argv.append("--die-with-parent")
    if policy.pid_namespace:
        argv.append("--unshare-pid")
    if policy.network is not NetworkMode.HOST:
        argv.append("--unshare-net")
    if ctx.service is not ServiceName.TERMINAL:
        argv.append("--new-session")
    argv += ["--ro-bind", "/", "/", "--dev", "/dev"]
    # A fresh procfs needs a PID namespace of our own; without one the host's /proc stays.
    if policy.pid_namespace:
        argv += ["--proc", "/proc"]
    # Fresh, private mounts (inside the sandbox), not temporary files of ours.
    argv += ["--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]  # noqa: S108 (= _FRESH)
    for mount in _planned(policy, ctx):
        argv += mount.argv()
    argv += ["--chdir", str(_real(ctx.workspace)), "--"]
    return argv
