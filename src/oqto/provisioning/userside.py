"""The part of provisioning that runs *as the platform user* (see `asuser`): it only ever
touches the user's own home, with the user's own permissions.

    python -m oqto.provisioning.userside skeleton SKELETON_DIR
    python -m oqto.provisioning.userside install-unit NAME   < unit text
    python -m oqto.provisioning.userside remove-unit NAME
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from oqto.provisioning.skeleton import copy_skeleton

UNIT_DIR = Path(".config/systemd/user")


def _home() -> Path:
    return Path(os.environ["HOME"])


def _unit_path(name: str) -> Path:
    if "/" in name or not name.endswith(".service") or name.startswith("."):
        raise SystemExit(f"bad unit name {name!r}")
    return _home() / UNIT_DIR / name


def install_unit(name: str, text: str) -> bool:
    """Write the unit atomically; True if its content changed."""
    path = _unit_path(name)
    if path.is_file() and not path.is_symlink() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".oqto-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "skeleton":
        copied = copy_skeleton(Path(argv[1]), _home(), os.getuid(), os.getgid())
        print(copied)
        return 0
    if len(argv) == 2 and argv[0] == "install-unit":
        print("changed" if install_unit(argv[1], sys.stdin.read()) else "unchanged")
        return 0
    if len(argv) == 2 and argv[0] == "remove-unit":
        _unit_path(argv[1]).unlink(missing_ok=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
