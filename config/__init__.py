"""Configuration: `scorecard.toml`, validated strictly (see `config.load`)."""
from config.errors import ConfigError
from config.load import load_config, parse_config
from config.model import (
    AiDetectionConfig,
    BaselineConfig,
    BaselineWindow,
    Config,
    RulesConfig,
    TeamConfig,
    WarehouseConfig,
)

__all__ = [
    "AiDetectionConfig", "BaselineConfig", "BaselineWindow", "Config", "ConfigError", "RulesConfig",
    "TeamConfig", "WarehouseConfig", "load_config", "parse_config",
]
