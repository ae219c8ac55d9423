"""The one error type for a bad configuration value, shared by loading and start-up."""


class ConfigError(Exception):
    """A config problem, phrased for the person who has to fix the file.

    Raised while loading (syntax, unknown keys, bad values) and while starting up
    (a path or database that a key names but that cannot be used), always with the
    key named, so every entry point can print it as one line instead of a traceback.
    """
