"""Find, read and validate the config file, then apply environment overrides.

Lookup order: `--config PATH`, `$OQTO_CONFIG`, `/etc/oqto/config.toml` when running as a
system service, `~/.config/oqto/config.toml`. A missing default file means defaults; a
missing file that was named explicitly is an error.

Overrides: `OQTO_<SECTION>__<KEY>=value`, e.g. `OQTO_SERVER__LISTEN=0.0.0.0:3000`. The
value is read as a TOML value when it parses as one (`true`, `5`, `["a"]`), else as a string.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from oqto.config import paths
from oqto.config.errors import ConfigError
from oqto.config.model import OqtoConfig

ENV_PREFIX = "OQTO_"
ENV_NESTING = "__"


__all__ = ["ConfigError", "LoadedConfig", "config_path", "load_config"]


@dataclass(frozen=True)
class LoadedConfig:
    config: OqtoConfig
    path: Path | None  # None when no file existed and defaults were used


def config_path(explicit: Path | None) -> tuple[Path, bool]:
    """The file to read and whether it must exist."""
    if explicit is not None:
        return explicit, True
    from_env = os.environ.get("OQTO_CONFIG")
    if from_env:
        return Path(from_env), True
    if paths.running_as_system_service():
        return paths.SYSTEM_CONFIG, False
    return paths.user_config_file(), False


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], environ: dict[str, str]) -> dict[str, str]:
    """Merge overrides into `data`; return a map from dotted key to the env var that set it."""
    origins: dict[str, str] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or ENV_NESTING not in name:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split(ENV_NESTING)]
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"environment variable {name}: expected OQTO_<SECTION>__<KEY>")
        section, key = parts
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"environment variable {name}: [{section}] is not a table")
        target[key] = _env_value(raw)
        origins[f"{section}.{key}"] = name
    return origins


def _suggestion(loc: list[str]) -> str:
    """`; did you mean "listen"?` for a misspelt key or section, else nothing."""
    model: type[BaseModel] = OqtoConfig
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        inner = field.annotation if field is not None else None
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return ""
        model = inner
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
    return f'; did you mean "{close[0]}"?' if close else ""


def _describe(exc: ValidationError, source: str, origins: dict[str, str]) -> str:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        dotted = ".".join(loc[:2])
        where = origins.get(dotted, source)
        key = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else f"[{loc[0]}]" if loc else "?"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown " + ("section" if len(loc) == 1 else "key") + _suggestion(loc)
        lines.append(f"{where}: {key}: {message}")
    return "\n".join(lines)


def load_config(
    explicit: Path | None = None, environ: dict[str, str] | None = None
) -> LoadedConfig:
    path, required = config_path(explicit)
    if path.exists():
        data = _read_toml(path)
        used: Path | None = path
    elif required:
        raise ConfigError(f"{path}: config file not found")
    else:
        data, used = {}, None
    origins = _apply_env(data, dict(os.environ if environ is None else environ))
    try:
        config = OqtoConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(path), origins)) from None
    _check_directories(config, str(path), origins)
    return LoadedConfig(config=config, path=used)


def _check_directories(config: OqtoConfig, source: str, origins: dict[str, str]) -> None:
    """Refuse directories that can never be created because a parent is a file.

    Read-only (this runs for every tool that reads the config): whether a directory
    may be created or adopted is decided where it is used.
    """
    keys = {
        "server.data_dir": config.server.data_dir,
        "local.socket_dir": config.local.socket_dir,
    }
    for dotted, value in keys.items():
        if value is None:
            continue
        blocker = _file_in_the_way(value.expanduser())
        if blocker is not None:
            section, key = dotted.split(".")
            where = origins.get(dotted, source)
            raise ConfigError(
                f"{where}: [{section}] {key}: {value} cannot be a directory: "
                f"{blocker} is not a directory"
            )


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest existing ancestor-or-self of `path` when that is not a directory."""
    for candidate in (path, *path.parents):
        try:
            is_dir = candidate.is_dir()
            exists = is_dir or candidate.exists()
        except OSError:
            return None  # unreadable: let the real use report it
        if exists:
            return None if is_dir else candidate
    return None
