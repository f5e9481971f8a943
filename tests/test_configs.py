"""Hydra configuration: every group option composes against the typed schema, defaults live in
config.py only, and a misspelt key or a wrong type fails at composition with a clear message."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from helsesim import data
from helsesim.config import ConfigError, SimConfig, to_flat_dict
from helsesim.hydra_schema import HelsesimConfig
from helsesim.model.allocation import DESIGNS
from helsesim.runner.compose import CONF_DIR, restrict_to_design, to_schema
from helsesim.runner.plan import plan_experiment

GROUPS = ("scenario", "allocation", "levers", "params", "experiment")


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def test_default_composes_to_the_schema_defaults(compose):
    cfg = compose()
    h = to_schema(cfg)
    assert isinstance(h, HelsesimConfig)
    assert h.experiment.name == "compare_allocation"
    # the simulation part equals config.py's defaults: YAML restates none of them
    sim = SimConfig(**{f.name: getattr(h, f.name) for f in dataclasses.fields(SimConfig)})
    assert to_flat_dict(sim) == to_flat_dict(SimConfig())


@pytest.mark.parametrize("group,option",
                         [(g, o) for g in GROUPS for o in options(g)])
def test_every_group_option_composes(compose, group, option):
    cfg = compose([f"{group}={option}"])
    plan = plan_experiment(cfg)
    assert plan.runs


def test_every_design_has_an_allocation_file():
    assert set(options("allocation")) == set(DESIGNS)


def test_allocation_files_set_their_design(compose):
    for option in options("allocation"):
        assert compose([f"allocation={option}"]).allocation.design == option


def test_yaml_states_only_changes():
    """No YAML file repeats a default of config.py (levers/status_quo is empty)."""
    defaults = to_flat_dict(SimConfig())
    defaults.update({f"experiment.{k}": v
                     for k, v in dataclasses.asdict(HelsesimConfig().experiment).items()})
    for path in CONF_DIR.rglob("*.yaml"):
        data = OmegaConf.to_container(OmegaConf.load(path))
        group = path.parent.name
        flat = {}

        def walk(prefix, node, flat=flat):
            for k, v in node.items():
                if isinstance(v, dict):
                    walk(f"{prefix}{k}.", v)
                else:
                    flat[f"{prefix}{k}"] = v

        if isinstance(data, dict):
            walk(f"{group}." if group in ("scenario", "allocation", "levers") else "", data)
        for key, value in flat.items():
            if key in defaults and key not in ("scenario.name", "allocation.design"):
                assert value != defaults[key], f"{path} restates the default {key}={value}"


def test_a_community_key_works_as_scenario_name(compose):
    plan = plan_experiment(compose(["scenario.name=st_olavs", "experiment.n_seeds=1"]))
    assert plan.info()["scenario"] == "st_olavs"


@pytest.mark.parametrize("name", data.scenario_names())
def test_every_scenario_is_an_option_of_the_scenario_group(compose, name):
    """`scenario=<key>` composes for each of the 19 communities, norway and synthetic (the
    communities from the data's one list, not from files), and plans as that scenario."""
    cfg = compose([f"scenario={name}", "experiment.n_seeds=1", "years=1"])
    assert cfg.scenario.name == name
    assert plan_experiment(cfg).info()["scenario"] == name


def test_the_scenario_group_lists_the_data_s_communities():
    from hydra.core.config_store import ConfigStore

    from helsesim.hydra_schema import register_configs

    register_configs()
    stored = {k.removesuffix(".yaml") for k in ConfigStore.instance().list("scenario")}
    assert stored == set(data.community_names()) and len(stored) == data.N_COMMUNITIES


def test_way_forward_arms_take_their_values_from_the_group_files(compose):
    plan = plan_experiment(compose(["experiment=way_forward"]))
    assert plan.arms[0] == plan.baseline == "status_quo"
    levers = OmegaConf.load(CONF_DIR / "levers" / "capacity_support.yaml")
    assert plan.arm_configs["capacity_support"].levers.capacity_support == levers.capacity_support
    together = plan.arm_configs["together"]
    assert together.allocation.design == "two_stream"
    for name in ("capacity_support", "reserved_seats", "compensation", "recruitment_earmark"):
        for k, v in OmegaConf.load(CONF_DIR / "levers" / f"{name}.yaml").items():
            assert getattr(together.levers, k) == v
    assert plan.arm_configs["status_quo"].levers == SimConfig().levers


@pytest.mark.parametrize("override,needle", [
    ("levers.compensaton=0.5", "levers.compensaton"),
    ("experiment.n_seed=3", "experiment.n_seed"),
    ("scenario.budgett=1e6", "scenario.budgett"),
])
def test_misspelt_key_fails_at_composition(compose, override, needle):
    with pytest.raises(ConfigCompositionException, match=needle.replace(".", r"\.")):
        compose([override])


@pytest.mark.parametrize("override,needle", [
    ("levers.compensation=lots", "levers.compensation"),
    ("years=ten", "years"),
    ("experiment.n_seeds=3.5", "experiment.n_seeds"),
    ("levers.equal_votes=maybe", "levers.equal_votes"),
])
def test_wrong_type_fails_at_composition(compose, override, needle):
    with pytest.raises(ConfigCompositionException) as e:
        compose([override])
    assert needle in str(e.value) + str(e.value.__cause__)


@pytest.mark.parametrize("text,needle", [("capacity_suport: 1.0\n", "capacity_suport"),
                                          ("capacity_support: strong\n", "capacity_support")])
def test_a_bad_yaml_file_fails_at_composition(tmp_path, text, needle):
    from hydra import compose, initialize_config_dir

    from helsesim.hydra_schema import register_configs

    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    (conf / "levers" / "bad.yaml").write_text(text)
    register_configs()
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        with pytest.raises(ConfigCompositionException, match=needle):
            compose(config_name="config", overrides=["levers=bad"])


@pytest.mark.parametrize("override,needle", [
    ("years=0", "years"),
    ("levers.compensation=2", "levers.compensation"),
    ("experiment.designs=[open_call,nonsense]", "allocation.design"),
    ("experiment.baseline=nonsense", "experiment.baseline"),
    ("experiment.n_seeds=0", "experiment.n_seeds"),
    ("scenario.name=atlantis", "scenario.name"),
])
def test_invalid_values_fail_before_any_run(compose, override, needle):
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        plan_experiment(compose([override]))


def test_a_bad_arm_names_the_arm_and_the_key(compose):
    cfg = compose(["experiment=way_forward",
                   "+experiment.arms.typo={levers: {capacity_suport: 1}}"])
    with pytest.raises(ConfigError, match=r"'typo'.*capacity_suport"):
        plan_experiment(cfg)


def test_paired_seeds(compose):
    plan = plan_experiment(compose(["experiment.n_seeds=4", "seed=10"]))
    by_arm = {}
    for r in plan.runs:
        by_arm.setdefault(r.arm, []).append((r.replicate, r.seed, r.config.seed))
    assert len(by_arm) == len(DESIGNS)
    for runs in by_arm.values():
        assert runs == [(i, 10 + i, 10 + i) for i in range(4)]


@pytest.mark.parametrize("overrides,expected", [
    (["allocation=governance_led"], ["governance_led"]),
    (["allocation.design=lottery"], ["lottery"]),
    (["levers.compensation=1"], None),
])
def test_an_allocation_override_runs_only_that_design(compose, overrides, expected):
    cfg = compose(overrides)
    changed = restrict_to_design(cfg, overrides)
    assert changed == (expected is not None)
    designs = [r.arm for r in plan_experiment(cfg).runs[:: cfg.experiment.n_seeds]]
    assert designs == (expected or list(DESIGNS))


def test_conf_dir_is_the_repository_conf():
    assert CONF_DIR == Path(__file__).resolve().parents[1] / "conf"


def test_params_calibrated_is_a_named_parameter_set_that_runs(compose):
    """`params=calibrated` (no `+`) sets exactly the posterior medians of conf/params/
    calibrated.yaml, each different from config.py's default; the same file passed to
    `helsesim.simulate(**file)` gives the same parameters, and a tiny job runs with them."""
    import helsesim

    path = CONF_DIR / "params" / "calibrated.yaml"
    stated = OmegaConf.to_container(OmegaConf.load(path))
    flat = {}

    def walk(prefix, node):
        for k, v in node.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            else:
                flat[f"{prefix}{k}"] = v

    walk("", stated)
    assert flat and all(k.startswith("params.") for k in flat)
    defaults = to_flat_dict(SimConfig())
    composed = to_flat_dict(SimConfig(**{f.name: getattr(to_schema(compose(["params=calibrated"])),
                                                         f.name)
                                         for f in dataclasses.fields(SimConfig)}))
    for key, value in flat.items():
        assert composed[key] == pytest.approx(value), key
        assert value != pytest.approx(defaults[key]), f"{key} equals its default"
    # nothing else moved
    assert {k for k in defaults if composed[k] != defaults[k]} == set(flat)
    plan = plan_experiment(compose(["params=calibrated", "experiment.designs=[open_call]",
                                    "experiment.n_seeds=1", "years=2"]))
    assert to_flat_dict(plan.runs[0].config).items() >= {
        k: composed[k] for k in flat}.items()
    result = helsesim.simulate("nordland", years=2, **stated)
    assert {k: to_flat_dict(result.config)[k] for k in flat} == pytest.approx(flat)
    assert len(result.years) == 3 and result.years["vacancy_rate"].notna().all()
