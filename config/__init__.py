"""Configuration: `scorecard.toml`, validated strictly by `config.load` (load_config, parse_config).

The package itself holds only the data model and the error type: `config.load` validates against the
metric registry (metrics.registry), and the metrics read `config.model`, so importing the model must not
load the loader.
"""
from config.errors import ConfigError
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
    "TeamConfig", "WarehouseConfig",
]
