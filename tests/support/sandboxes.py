"""Sandbox settings for tests that build a user plane themselves."""

from __future__ import annotations

from pathlib import Path

from oqto.userplane.confinement import SandboxSettings


def sandbox_settings(directory: Path, text: str | None = None) -> SandboxSettings:
    """The admin file `text` (absent: the built-in default), nothing else hidden."""
    admin = directory / "sandbox.toml"
    if text is not None:
        admin.write_text(text)
    return SandboxSettings(admin_file=admin, bwrap="bwrap", private_dirs=(), default_allow_hosts=())


def unsandboxed(directory: Path) -> SandboxSettings:
    """For tests of the lifecycle with stand-in services, not of confinement."""
    return sandbox_settings(directory, "enabled = false\n")
