"""The one error a configuration that cannot work raises."""


class ConfigError(ValueError):
    """A configuration problem; the message names the file and the key."""
