"""helsesim: an agent-based model of Norwegian health communities and the RS grant."""

from helsesim.api import Result, build_config, run_config, simulate
from helsesim.config import ConfigError, SimConfig

__version__ = "0.1.0"
__all__ = ["simulate", "run_config", "build_config", "Result", "SimConfig", "ConfigError",
           "__version__"]
