"""Oqto: multi-user AI coding-agent workspaces."""


def package_version() -> str:
    """The installed distribution's version (one source: pyproject.toml)."""
    from importlib.metadata import version

    return version("oqto")
