"""Configuration: one typed model shared by every Oqto entry point."""

from oqto.config.loader import ConfigError, LoadedConfig, load_config
from oqto.config.model import BackendMode, OqtoConfig

__all__ = ["BackendMode", "ConfigError", "LoadedConfig", "OqtoConfig", "load_config"]
