"""A job's configuration: composed by Hydra from ``conf/``, typed by the schema, and the one-line
messages of Hydra's composition errors.

:func:`compose_config` composes ``conf/config.yaml`` with overrides as the ``helsesim`` command
does; :func:`to_schema` turns the result into the typed :class:`~helsesim.hydra_schema.
HelsesimConfig` (refusing keys added with ``+`` that the schema does not have).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from helsesim.config import ConfigError, SimConfig, allowed, schema, schema_node, unknown_keys
from helsesim.hydra_schema import HelsesimConfig, register_configs

#: The Hydra configuration folder of a source checkout (``pip install -e .``).
CONF_DIR = Path(__file__).resolve().parents[3] / "conf"


def compose_config(overrides: list[str] | tuple[str, ...] = (), config_name: str = "config"
                   ) -> DictConfig:
    """Compose ``conf/config.yaml`` with Hydra overrides, as the ``helsesim`` command does.

    Raises:
        hydra.errors.ConfigCompositionException: a key is misspelt or a value has the wrong type.
    """
    from hydra import compose, initialize_config_dir

    if not (CONF_DIR / f"{config_name}.yaml").exists():
        raise ConfigError(f"Hydra configuration {CONF_DIR / config_name}.yaml not found: the "
                          "conf/ folder lives in the helsesim repository (pip install -e .)")
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def to_schema(cfg: DictConfig | HelsesimConfig) -> HelsesimConfig:
    """The typed configuration object of a composed DictConfig (a copy).

    Raises:
        ConfigError: a key that the schema does not have (added with ``+``), named with the
            keys allowed where it was added.
    """
    if isinstance(cfg, HelsesimConfig):
        return copy.deepcopy(cfg)
    if not isinstance(cfg, DictConfig):
        raise ConfigError(f"expected a composed configuration, got {type(cfg).__name__}")
    cfg = copy.deepcopy(cfg)
    if "hydra" in cfg:
        with writable(cfg):
            del cfg["hydra"]
    unknown = unknown_keys(cfg, HelsesimConfig)
    if unknown:
        *group, key = unknown[0].split(".")
        where = schema(HelsesimConfig)
        for part in group:
            where = where[part]
        scope = f"in {'.'.join(group)}" if group else "at the top"
        raise ConfigError(f"{unknown[0]}: not a parameter of helsesim (added with +?); "
                          f"allowed {scope}: {', '.join(where.keys())}")
    obj = OmegaConf.to_object(cfg)
    if not isinstance(obj, HelsesimConfig):
        raise ConfigError("the configuration was not composed from helsesim's schema "
                          "(conf/config.yaml must start with `base_config`)")
    return obj


@contextlib.contextmanager
def writable(cfg: DictConfig) -> Iterator[DictConfig]:
    """Lift OmegaConf's struct and read-only flags inside the block."""
    with read_write(cfg), open_dict(cfg):
        yield cfg


def sim_config(cfg: HelsesimConfig) -> SimConfig:
    """The simulation part of a job's configuration."""
    return SimConfig(**{f.name: copy.deepcopy(getattr(cfg, f.name))
                        for f in dataclasses.fields(SimConfig)})


def overridden_design(task_overrides: list[str]) -> bool:
    """Whether Hydra overrides choose the allocation design (``allocation=...``,
    ``allocation.design=...``)."""
    for ov in task_overrides:
        key = ov.split("=", 1)[0].lstrip("+~")
        if key in ("allocation", "allocation.design"):
            return True
    return False


def restrict_to_design(cfg: DictConfig, task_overrides: list[str]) -> bool:
    """If the command line chooses a design, run only that design instead of the experiment's
    ``designs`` list, so ``helsesim -m allocation=open_call,governance_led`` gives one design
    per job. Returns whether the configuration changed."""
    if not cfg.experiment.designs or not overridden_design(task_overrides):
        return False
    with writable(cfg):
        cfg.experiment.designs = [cfg.allocation.design]
    return True


def composition_error(e: Exception) -> str:
    """One line for an error of Hydra's composition: a misspelt key and a value of the wrong
    type as helsesim's own checks name them, an unknown option with the options, a YAML file
    that cannot be read with its name."""
    keyed = _keyed_error(e)
    if keyed is not None:
        return keyed
    options = getattr(e, "options", None)
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    first = first.removeprefix("In 'config': ")
    if options:
        return f"{first}; available: {', '.join(options)}"
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    if type(e).__module__.startswith("yaml") and len(lines) > 1:
        return f"{lines[0]} ({lines[1]}); helsesim reads plain YAML only"
    return first


def _keyed_error(e: Exception) -> str | None:
    """The line for an OmegaConf error (in ``e`` or its causes) that names a key: unknown keys
    as the schema names them, a wrong value with what is allowed (None: no such error)."""
    chain = [e]
    while chain[-1].__cause__ is not None and len(chain) < 5:
        chain.append(chain[-1].__cause__)
    for err in chain:
        key = getattr(err, "full_key", None)
        if isinstance(err, OmegaConfBaseException) and key:
            try:
                schema_node(key, HelsesimConfig)
            except ConfigError as unknown:  # a misspelt or unknown key
                return str(unknown)
            if "arms" not in key.split("."):
                first = str(err).splitlines()[0]
                return f"{key}: {first}; allowed: {allowed(key, HelsesimConfig)}"
    return None
