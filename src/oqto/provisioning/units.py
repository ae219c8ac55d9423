"""The systemd units and tmpfiles snippet we ship, and how they are rendered for a host.

The files live in `deploy/` of the source tree and are packaged into the wheel as
`oqto/_deploy/` (see pyproject's force-include). They name our programs under
`/usr/local/bin`, the documented install location; `render` points them elsewhere (e.g.
straight at a venv's `bin/`) when the programs live there instead.
"""

from __future__ import annotations

import sysconfig
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BIN_DIR = Path("/usr/local/bin")
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
GLOBAL_USER_UNIT_DIR = Path("/etc/systemd/user")
TMPFILES_DIR = Path("/etc/tmpfiles.d")

RUNNER_UNIT = "oqto-runner.service"
CONTROL_UNIT = "oqto.service"
USERMGR_UNIT = "oqto-usermgr.service"
SYSTEM_UNITS = (CONTROL_UNIT, USERMGR_UNIT, "oqto-agent@.service")
USER_UNITS = (RUNNER_UNIT, "oqto-user.service")
TMPFILES = "oqto.conf"

_PACKAGED = Path(__file__).resolve().parent.parent / "_deploy"
_SOURCE = Path(__file__).resolve().parents[3] / "deploy"


class UnitsNotFound(Exception):
    pass


def deploy_dir() -> Path:
    """`oqto/_deploy` in an installed wheel, `deploy/` in a source checkout."""
    for candidate in (_PACKAGED, _SOURCE):
        if (candidate / "systemd" / CONTROL_UNIT).is_file():
            return candidate
    raise UnitsNotFound(f"systemd units not found in {_PACKAGED} or {_SOURCE}")


def unit_source(name: str) -> Path:
    return deploy_dir() / "systemd" / name


def installed_bin_dir() -> Path:
    """/usr/local/bin when our programs are linked there (the documented install), else
    the scripts directory of the environment we run from (e.g. /opt/oqto/venv/bin)."""
    if (DEFAULT_BIN_DIR / "oqto-runner").exists():
        return DEFAULT_BIN_DIR
    return Path(sysconfig.get_path("scripts"))


def render(text: str, bin_dir: Path) -> str:
    """Point the Exec lines at `bin_dir` instead of /usr/local/bin."""
    if bin_dir == DEFAULT_BIN_DIR:
        return text
    old, new = f"{DEFAULT_BIN_DIR}/", f"{bin_dir}/"
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("Exec"):
            line = line.replace(old, new)
        lines.append(line)
    return "".join(lines)


def rendered_unit(name: str, bin_dir: Path = DEFAULT_BIN_DIR) -> str:
    return render(unit_source(name).read_text(), bin_dir)


@dataclass(frozen=True)
class InstalledFile:
    path: Path
    changed: bool


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> InstalledFile:
    """Root writing into root-owned system directories (never into a home)."""
    if path.is_file() and not path.is_symlink() and path.read_text() == text:
        return InstalledFile(path, False)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    tmp = path.with_name(f".{path.name}.oqto-tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(path)
    return InstalledFile(path, True)
