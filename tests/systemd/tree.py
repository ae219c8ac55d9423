"""A Debian 12 root filesystem for the real-systemd test, made by debootstrap and cached
under `.cache/systemd-test/` keyed by its inputs, plus the wheels of our locked
dependencies (downloaded once per uv.lock, so the container needs no network)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.server import REPO

CACHE = REPO / ".cache" / "systemd-test"
SUITE = "bookworm"
MIRROR = os.environ.get("OQTO_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = (
    "systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,python3,python3-venv,"
    "sudo,acl,procps,iproute2,ca-certificates,bubblewrap"
)
# Bump when the way the tree is made changes.
RECIPE = "1"
UV = REPO / ".tools" / "uv-venv" / "bin" / "uv"
PIP_PYTHON = REPO / ".tools" / "uv-venv" / "bin" / "python"


class TreeError(Exception):
    pass


@contextmanager
def locked(name: str) -> Iterator[None]:
    """Several test runs may share the cache; one builds, the others wait."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def mounts_below(path: Path) -> list[Path]:
    found = []
    prefix = str(path.resolve()) + "/"
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mount_point = line.split()[4].replace("\\040", " ")
        if mount_point.startswith(prefix) or mount_point == prefix[:-1]:
            found.append(Path(mount_point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def unmount_all(path: Path) -> None:
    for mount_point in mounts_below(path):
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount_point)], capture_output=True)


def rootfs() -> Path:
    """The cached tree (built on first use, ~1-4 min; later runs reuse it)."""
    key = _key(RECIPE, SUITE, MIRROR, PACKAGES)
    tree = CACHE / f"rootfs-{key}"
    with locked("rootfs"):
        if (tree / ".oqto-complete").exists():
            return tree
        for old in CACHE.glob("rootfs-*"):  # other recipes and half-built leftovers
            unmount_all(old)
            shutil.rmtree(old, ignore_errors=True)
        building = CACHE / f"rootfs-{key}.building"
        log = CACHE / "debootstrap.log"
        try:
            with log.open("w") as out:
                result = subprocess.run(
                    [
                        "debootstrap",
                        "--variant=minbase",
                        f"--include={PACKAGES}",
                        SUITE,
                        str(building),
                        MIRROR,
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=1800,
                )
            if result.returncode != 0:
                tail = log.read_text(errors="replace")[-2000:]
                raise TreeError(f"debootstrap failed ({result.returncode}); see {log}:\n{tail}")
            # Don't let the container's apt ever reach out during the test.
            shutil.rmtree(building / "var/cache/apt/archives", ignore_errors=True)
            (building / ".oqto-complete").write_text(key)
        finally:
            unmount_all(building)  # debootstrap mounts /proc and /sys while it works
        if not (building / ".oqto-complete").exists():
            shutil.rmtree(building, ignore_errors=True)
            raise TreeError("debootstrap did not finish")
        building.rename(tree)
    return tree


def dependency_wheels() -> Path:
    """Wheels of every locked runtime dependency, for an offline `pip install`."""
    lock = (REPO / "uv.lock").read_bytes()
    target = CACHE / f"wheels-{hashlib.sha256(lock).hexdigest()[:16]}"
    with locked("wheels"):
        if (target / "requirements.txt").exists():
            return target
        for old in CACHE.glob("wheels-*"):
            shutil.rmtree(old, ignore_errors=True)
        building = CACHE / "wheels.building"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        requirements = building / "requirements.in"
        run(
            [
                str(UV),
                "export",
                "--frozen",
                "--no-dev",
                "--no-emit-project",
                "--format",
                "requirements-txt",
                "-o",
                str(requirements),
            ],
            cwd=REPO,
        )
        # The host's Python is the container's (Debian 12's 3.11), so its wheel tags fit.
        run(
            [
                str(PIP_PYTHON),
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "--require-hashes",
                "-r",
                str(requirements),
                "-d",
                str(building),
            ],
            env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
        )
        requirements.rename(building / "requirements.txt")
        building.rename(target)
    return target


def build_wheel(dest: Path) -> Path:
    """The oqto wheel from this checkout."""
    dest.mkdir(parents=True, exist_ok=True)
    run([str(UV), "build", "--wheel", "--out-dir", str(dest), str(REPO)], cwd=REPO)
    [wheel] = dest.glob("oqto-*.whl")
    return wheel


def run(argv: list[str], **kwargs: object) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise TreeError(f"{' '.join(argv[:3])} failed:\n{result.stdout}\n{result.stderr}")


def host_arch_ok() -> bool:
    return sys.platform == "linux" and os.uname().machine == "x86_64"
