"""bwrap.build_argv: which rule wins where, the mount order, and what it creates."""

from __future__ import annotations

from pathlib import Path

import pytest

from oqto.protocol.sessions import ServiceName
from oqto.sandbox.bwrap import SandboxContext, build_argv
from oqto.sandbox.policy import NetworkMode, SandboxPolicy, SandboxRefused


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home" / "alice"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("secret")
    (home / ".netrc").write_text("machine x")
    return home


@pytest.fixture
def workspace(home: Path) -> Path:
    ws = home / "work" / "proj"
    ws.mkdir(parents=True)
    return ws


def policy(**kw: object) -> SandboxPolicy:
    return SandboxPolicy(enabled=True, profile="test", **kw)  # type: ignore[arg-type]


def ctx(home: Path, workspace: Path, **kw: object) -> SandboxContext:
    kw.setdefault("service", ServiceName.AGENT)
    return SandboxContext(home=home, workspace=workspace, **kw)  # type: ignore[arg-type]


def mounts(argv: list[str]) -> list[tuple[str, str]]:
    """(option, destination) of each mount after the fixed system ones."""
    out = []
    i = argv.index("/dev/shm") + 1
    while argv[i] != "--chdir":
        opt = argv[i]
        if opt == "--tmpfs":
            out.append((opt, argv[i + 1]))
            i += 2
        else:
            out.append((opt if argv[i + 1] != "/dev/null" else "--mask-file", argv[i + 2]))
            i += 3
    return out


def test_namespaces_follow_the_policy(home: Path, workspace: Path) -> None:
    argv = build_argv("/usr/bin/bwrap", policy(), ctx(home, workspace))
    assert argv[0] == "/usr/bin/bwrap" and argv[-1] == "--"
    for flag in ("--die-with-parent", "--unshare-user", "--unshare-pid"):
        assert flag in argv
    # A runner's sessions outlive it (it re-adopts them after a restart).
    kept = build_argv("bwrap", policy(), ctx(home, workspace, outlives_parent=True))
    assert "--die-with-parent" not in kept and "--unshare-user" in kept
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert "--unshare-net" in argv and "--new-session" in argv
    assert argv[argv.index("--chdir") + 1] == str(workspace)
    assert "--clearenv" not in argv and "--setenv" not in argv

    loose = build_argv(
        "bwrap",
        policy(network=NetworkMode.HOST, pid_namespace=False),
        ctx(home, workspace, service=ServiceName.TERMINAL),
    )
    for flag in ("--unshare-net", "--unshare-pid", "--new-session", "--proc"):
        assert flag not in loose


def test_rules_and_their_order(home: Path, workspace: Path) -> None:
    runtime = home.parent.parent / "run"
    own = runtime / "s1" / "agent"
    own.mkdir(parents=True)
    p = policy(
        # .aws does not exist: it is created, so that the owner cannot make it later,
        # outside, where the session's live read-only view of the home would show it.
        deny_read=(home / ".ssh", home / ".netrc", home / ".aws"),
        allow_write=(home / ".cache" / "opencode", home / ".ssh" / "sub"),
        deny_write=(workspace / "build",),
    )
    (workspace / "build").mkdir()
    argv = build_argv("bwrap", p, ctx(home, workspace, own_dirs=(own,), hidden=(runtime,)))
    got = mounts(argv)
    assert got == [
        ("--tmpfs", str(home.parent)),  # other users' homes
        ("--tmpfs", str(runtime)),
        ("--ro-bind", str(home)),
        ("--bind", str(own)),  # at one depth: binds, then masks
        ("--tmpfs", str(home / ".aws")),
        ("--mask-file", str(home / ".netrc")),
        ("--tmpfs", str(home / ".ssh")),
        ("--bind", str(home / ".cache" / "opencode")),
        ("--bind", str(workspace)),
        ("--ro-bind", str(home / ".config" / "oqto")),
        ("--ro-bind", str(workspace / ".oqto")),
        ("--ro-bind", str(workspace / "build")),
    ]
    # Depth never decreases: a later mount never sits above an earlier one.
    depths = [len(Path(dest).parts) for _, dest in got]
    assert depths == sorted(depths)
    # An allow_write beneath a deny_read is dropped, and so was never created.
    assert not (home / ".ssh" / "sub").exists()
    assert ("--bind", str(home / ".ssh" / "sub")) not in got
    assert (home / ".aws").is_dir() and (home / ".aws").stat().st_mode & 0o777 == 0o700
    # Created so they can be bound: opencode's dir (0700) and the config dirs.
    assert (home / ".cache" / "opencode").stat().st_mode & 0o777 == 0o700
    assert (home / ".config" / "oqto").is_dir() and (workspace / ".oqto").is_dir()


def test_same_depth_masks_after_binds(home: Path, workspace: Path) -> None:
    # The same path both writable and denied: the deny wins and only it is mounted.
    target = home / ".local" / "share" / "x"
    target.mkdir(parents=True)
    got = mounts(
        build_argv(
            "bwrap", policy(allow_write=(target,), deny_read=(target,)), ctx(home, workspace)
        )
    )
    assert ("--bind", str(target)) not in got
    assert ("--tmpfs", str(target)) in got
    got = mounts(
        build_argv(
            "bwrap", policy(allow_write=(target,), deny_write=(target,)), ctx(home, workspace)
        )
    )
    assert ("--bind", str(target)) not in got and ("--ro-bind", str(target)) in got


def test_deny_write_wins_over_the_workspace(home: Path, workspace: Path) -> None:
    got = mounts(build_argv("bwrap", policy(deny_write=(workspace.parent,)), ctx(home, workspace)))
    assert ("--bind", str(workspace)) not in got
    assert ("--ro-bind", str(workspace.parent)) in got


def test_nothing_is_created_outside_the_home(home: Path, workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "cache"
    got = mounts(build_argv("bwrap", policy(allow_write=(outside,)), ctx(home, workspace)))
    assert not outside.exists() and ("--bind", str(outside)) not in got
    outside.mkdir(parents=True)
    got = mounts(build_argv("bwrap", policy(allow_write=(outside,)), ctx(home, workspace)))
    assert ("--bind", str(outside)) in got


def test_a_planted_symlink_does_not_make_a_path_writable(home: Path, workspace: Path) -> None:
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".cache").mkdir()
    (home / ".cache" / "opencode").symlink_to(home / ".local" / "bin")
    with pytest.raises(SandboxRefused, match="symlink"):
        build_argv(
            "bwrap", policy(allow_write=(home / ".cache" / "opencode",)), ctx(home, workspace)
        )
    # A symlinked parent is refused too, before anything is created through it.
    (home / ".state").symlink_to(home / ".local")
    with pytest.raises(SandboxRefused, match="symlink"):
        build_argv("bwrap", policy(allow_write=(home / ".state" / "new",)), ctx(home, workspace))
    assert not (home / ".local" / "new").exists()


def test_a_dir_that_cannot_be_made_refuses_the_sandbox(home: Path, workspace: Path) -> None:
    (workspace / ".oqto").symlink_to(workspace / "nowhere")  # dangling: mkdir fails
    with pytest.raises(SandboxRefused, match=r"\.oqto: cannot create"):
        build_argv("bwrap", policy(), ctx(home, workspace))


def test_nothing_is_bound_back_beneath_a_mask(home: Path, workspace: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "secret").mkdir(parents=True)
    p = policy(deny_write=(data / "secret",), extra_ro_bind=(data / "secret",))
    got = mounts(build_argv("bwrap", p, ctx(home, workspace, hidden=(data,))))
    assert got.count(("--tmpfs", str(data))) == 1
    assert all(dest != str(data / "secret") for _, dest in got)
    # A deny_write under the fresh /tmp would bind the host's path back in.
    host_tmp = Path("/tmp")
    got = mounts(
        build_argv("bwrap", policy(deny_write=(host_tmp / ".X11-unix",)), ctx(home, workspace))
    )
    assert all(not dest.startswith("/tmp/.X11") for _, dest in got)


def test_the_order_is_deterministic(home: Path, workspace: Path) -> None:
    p = policy(deny_read=(home / ".ssh", home / ".netrc"), allow_write=(home / ".a", home / ".b"))
    c = ctx(home, workspace)
    assert build_argv("bwrap", p, c) == build_argv("bwrap", p, c)
    reordered = policy(
        deny_read=(home / ".netrc", home / ".ssh"), allow_write=(home / ".b", home / ".a")
    )
    assert build_argv("bwrap", reordered, c) == build_argv("bwrap", p, c)


def test_every_place_homes_live_is_hidden_but_the_own_home(
    tmp_path: Path, home: Path, workspace: Path
) -> None:
    """A home outside /home (root's, a service account's) must not leave /home in view,
    nor /root when the owner lives elsewhere."""
    elsewhere, root_home = tmp_path / "srv" / "homes", tmp_path / "root"
    for d in (elsewhere / "carol", root_home):
        d.mkdir(parents=True)
    got = mounts(
        build_argv(
            "bwrap",
            policy(),
            ctx(home, workspace, home_roots=(elsewhere, root_home, home.parent, tmp_path / "none")),
        )
    )
    assert ("--tmpfs", str(elsewhere)) in got and ("--tmpfs", str(root_home)) in got
    assert ("--tmpfs", str(home.parent)) in got and ("--ro-bind", str(home)) in got
    assert ("--tmpfs", str(tmp_path / "none")) not in got  # nothing to hide, nothing created
    # A root that lies inside the own home (or is it) hides nothing of it.
    inside = mounts(build_argv("bwrap", policy(), ctx(home, workspace, home_roots=(home,))))
    assert ("--tmpfs", str(home)) not in inside


def test_a_mask_inside_a_mask_is_not_mounted(home: Path, workspace: Path) -> None:
    """Its mount point would be an empty dir inside the hidden one, showing its layout
    (the runner's state dir listed as 'logs, runner')."""
    state = home / ".local" / "state" / "oqto"
    for d in (state / "logs" / "sessions", state / "runner" / "sessions"):
        d.mkdir(parents=True)
    hidden = (state, state / "logs" / "sessions", state / "runner" / "sessions")
    got = mounts(build_argv("bwrap", policy(), ctx(home, workspace, hidden=hidden)))
    assert ("--tmpfs", str(state)) in got
    assert [dest for _, dest in got if dest.startswith(str(state) + "/")] == []
    # Beneath a mask but with a bind in between, a mask stays: ~/.ssh inside /home.
    masked = mounts(build_argv("bwrap", policy(deny_read=(home / ".ssh",)), ctx(home, workspace)))
    assert ("--tmpfs", str(home.parent)) in masked and ("--tmpfs", str(home / ".ssh")) in masked
