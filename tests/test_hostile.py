"""Hostile input to an experiment: every invalid configuration, corrupt or edited data file and
results folder of another version or configuration gives one clear error naming what is wrong,
before any run starts, and leaves the results already written untouched."""

from __future__ import annotations

import json
import shutil
import types
from importlib import resources
from pathlib import Path

import pytest
from conftest import TINY, run_cli, snapshot
from hydra.errors import ConfigCompositionException

from helsesim import data, preflight
from helsesim.config import ConfigError
from helsesim.data import DataError
from helsesim.experiment import run_experiment
from helsesim.preflight import ResultsConflict

QUIET = [*TINY, "experiment.figures=false"]


@pytest.fixture(scope="module")
def finished_once(tmp_path_factory) -> Path:
    from helsesim.experiment import compose_config

    job = tmp_path_factory.mktemp("finished") / "job"
    run_experiment(compose_config(QUIET), job)
    return job


@pytest.fixture
def written(finished_once, tmp_path) -> Path:
    """A job folder holding finished results (a copy of one run once per module)."""
    job = tmp_path / "job"
    shutil.copytree(finished_once, job)
    return job


# (overrides, words the error must contain)
BAD_CONFIGS = {
    "unknown scenario": (["scenario.name=atlantis"], ["scenario.name", "atlantis", "nordland"]),
    "unknown design": (["allocation.design=lotto"], ["allocation.design", "lotto"]),
    "unknown design in the list": (["experiment.designs=[open_call,lotto]"],
                                   ["allocation.design", "lotto"]),
    "negative budget": (["scenario.budget=-1"], ["scenario.budget", "from 0.0"]),
    "a budget beyond the bound": (["scenario.budget=1e308"], ["scenario.budget", "to 1e+12"]),
    "an unbounded parameter at 1e308": (["params.trust.transfer_cost_per_capita=1e308"],
                                        ["transfer_cost_per_capita", "to 1e+06"]),
    "an infinite list entry": (["params.project.duration_weights=[1,inf,1]"],
                               ["duration_weights[1]", "finite"]),
    "a seed beyond 64 bits": (["seed=99999999999999999999999"], ["seed", "2**63 - 1"]),
    "seeds that run past 64 bits": (["seed=9223372036854775807", "experiment.n_seeds=2"],
                                    ["seed + n_seeds - 1"]),
    "a key added with + that is not in the schema": (["+levers.compensaton=0.9"],
                                                     ["levers.compensaton", "compensation",
                                                      "capacity_support"]),
    "an unknown outcome": (["experiment.outcomes=[no_such_outcome]"],
                           ["experiment.outcomes", "no_such_outcome", "vacancy_rate"]),
    "a name that leaves results/": (["experiment.name=../../x"],
                                    ["experiment.name", "../../x", "folder name"]),
    "a negative chunk size": (["experiment.chunk_size=-1"], ["experiment.chunk_size", "-1"]),
    "too many seeds": (["experiment.n_seeds=100000000"], ["experiment.n_seeds", "100000000"]),
    "too many runs": (["experiment.n_seeds=300000"], ["1,500,000 runs", "1,000,000"]),
    "a horizon the model cannot compute": (["scenario.name=norway", "years=1000"],
                                           ["years: got 1000", "allowed here: <= 467",
                                            "need_growth"]),
    "NaN budget": (["scenario.budget=nan"], ["scenario.budget", "NaN"]),
    "NaN national budget": (["scenario.national_budget=nan"], ["national_budget", "NaN"]),
    "share above 1": (["allocation.stream_share=1.5"], ["stream_share", "1.5"]),
    "share below 0": (["levers.compensation=-0.1"], ["levers.compensation", "-0.1"]),
    "thresholds out of order": (["params.municipality.small_threshold=50000"],
                                ["small_threshold", "large_threshold"]),
    "no municipalities in synthetic": (["scenario.name=synthetic",
                                        "scenario.n_municipalities=0"],
                                       ["n_municipalities", "from 1"]),
    "unknown backend": (["experiment.backend=slurm"], ["experiment.backend", "slurm", "ray"]),
    "unknown start method": (["experiment.start_method=clone"],
                             ["experiment.start_method", "clone", "auto", "spawn"]),
    "bad arm": (["experiment=way_forward", "+experiment.arms.typo={levers: {compensation: 2}}"],
                ["typo", "levers.compensation"]),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_an_invalid_configuration_is_named_before_any_run(compose, written, case):
    overrides, words = BAD_CONFIGS[case]
    before = snapshot(written)
    with pytest.raises(ConfigError) as e:
        run_experiment(compose([*QUIET, *overrides]), written)
    msg = str(e.value)
    assert all(w in msg for w in words), msg
    assert "\n" not in msg
    assert snapshot(written) == before


@pytest.mark.parametrize("override,needle", [("levers.compensaton=0.5", "compensaton"),
                                             ("scenario.budget=lots", "scenario.budget"),
                                             ("scenario=atlantis", "atlantis")])
def test_an_unknown_name_fails_when_the_configuration_is_composed(compose, override, needle):
    with pytest.raises(ConfigCompositionException) as e:
        compose([override])
    assert needle in str(e.value) + str(e.value.__cause__)


EVIL_YAML = """name: evil
payload: !!python/object/apply:os.system ["touch {marker}"]
"""

# (command-line arguments, words the one line must contain); {conf} is a folder with an
# experiment file holding a !!python/object tag, {marker} the file it would create if run
CLI_REFUSALS = {
    "NaN budget": (["scenario.budget=nan"], ["invalid configuration: scenario.budget: got NaN"]),
    "misspelt key": (["levers.compensaton=0.9"],
                     ["unknown parameter 'levers.compensaton'", "compensation"]),
    "key added with +": (["+levers.compensaton=0.9"],
                         ["levers.compensaton: not a parameter", "compensation"]),
    "wrong type": (["scenario.budget=lots"], ["scenario.budget", "'lots'", "a number"]),
    "unknown option": (["scenario=atlantis"],
                       ["scenario/atlantis", "available:", "helgeland", "nordland"]),
    "broken override": (["levers.compensation=[1,"], ["[1,"]),
    "a YAML file with a python tag": (["--config-dir={conf}", "experiment=evil"],
                                      ["python/object", "evil.yaml", "plain YAML only"]),
    "a name outside results/": (["experiment.name=../../x"], ["experiment.name", "../../x"]),
    "an unknown outcome": (["experiment.outcomes=[no_such_outcome]"], ["no_such_outcome"]),
    "an unreachable Ray cluster": (["experiment.backend=ray",
                                    "experiment.ray_address=127.0.0.1:9"],
                                   ["Ray cluster", "127.0.0.1:9"]),
    "a multirun with a misspelt key": (["-m", "levers.compensaton=0,1"],
                                       ["job 0", "unknown parameter 'levers.compensaton'"]),
}


@pytest.mark.parametrize("case", list(CLI_REFUSALS))
def test_the_cli_refuses_in_one_line_with_status_2_and_touches_nothing(written, tmp_path,
                                                                        case):
    """Hydra's composition errors included; the refused command writes nothing at all, not
    even Hydra's own .hydra/ folder and log: it is checked before Hydra starts."""
    conf = tmp_path / "conf"
    marker = tmp_path / "executed"
    (conf / "experiment").mkdir(parents=True)
    (conf / "experiment" / "evil.yaml").write_text(EVIL_YAML.format(marker=marker))
    args, words = CLI_REFUSALS[case]
    args = [a.format(conf=conf) for a in args]
    before = snapshot(written)
    where = (f"hydra.sweep.dir={tmp_path / 'sweep'}" if "-m" in args
             else f"hydra.run.dir={written}")
    res = run_cli([*args, *QUIET, where], cwd=tmp_path, status=2)
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert all(w in lines[0] for w in words), lines[0]
    assert lines[0].startswith("helsesim: ")
    assert snapshot(written) == before  # .hydra/ and helsesim.log included
    assert not (tmp_path / "sweep").exists() and not marker.exists()


def test_a_read_only_job_folder_is_named_before_any_run(compose, tmp_path, monkeypatch):
    """A folder on a read-only file system: one line naming it (tested by making the lock
    file's creation fail as a read-only mount makes it fail: the suite may run as root)."""
    import errno
    import os

    from helsesim.preflight import OutputUnwritable, check_writable

    job = tmp_path / "job"
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(job)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(OutputUnwritable, match=r"job: read-only file system writing .*lock"):
        run_experiment(compose(QUIET), job)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    monkeypatch.setattr(preflight, "_read_only", lambda path: True)
    with pytest.raises(OutputUnwritable, match="read-only file system"):
        check_writable(job)


# --- results folders -----------------------------------------------------------------------------

def _edit_manifest(job: Path, **identity) -> None:
    m = json.loads((job / "manifest.json").read_text())
    m["identity"].update(identity)
    (job / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("identity,needle", [
    ({"helsesim": "0.0.1"}, "results of helsesim 0.0.1"),
    ({"results_format": 1}, "results in format 1"),
])
def test_results_of_another_version_are_refused_untouched(compose, written, identity, needle):
    _edit_manifest(written, **identity)
    before = snapshot(written)
    with pytest.raises(ResultsConflict, match=needle) as e:
        run_experiment(compose(QUIET), written)
    assert "experiment.overwrite=true" in str(e.value)
    assert snapshot(written) == before


def test_results_of_another_configuration_are_refused_naming_the_difference(compose, written):
    before = snapshot(written)
    with pytest.raises(ResultsConflict, match=r"levers\.compensation \(0\.25 -> 0\.5\)"):
        run_experiment(compose([*QUIET, "levers.compensation=0.5"]), written)
    assert snapshot(written) == before


def test_results_without_a_manifest_are_refused(compose, written):
    (written / "manifest.json").unlink()
    with pytest.raises(ResultsConflict, match="without a helsesim manifest"):
        run_experiment(compose(QUIET), written)


def test_overwrite_replaces_them(compose, written):
    _edit_manifest(written, helsesim="0.0.1")
    (written / "stray.txt").write_text("not a result")
    res = run_experiment(compose([*QUIET, "levers.compensation=0.5",
                                  "experiment.overwrite=true"]), written)
    assert (res.tables["runs"]["levers__compensation"] == 0.5).all()
    assert json.loads((written / "manifest.json").read_text())["identity"]["helsesim"] != "0.0.1"
    assert (written / "stray.txt").exists()  # only helsesim's own files are replaced


def test_the_same_job_again_runs_nothing_and_a_changed_execution_setting_is_allowed(
        compose, written, caplog):
    before = snapshot(written)
    with caplog.at_level("INFO"):
        res = run_experiment(compose([*QUIET, "experiment.n_jobs=2", "experiment.chunk_size=3"]),
                             written)
    assert "nothing to run" in caplog.text
    assert len(res.tables["runs"]) == 5
    assert snapshot(written) == before


def test_a_folder_being_filled_by_another_process_is_refused(compose, written):
    with preflight.FolderLock(written):
        with pytest.raises(ResultsConflict, match="another helsesim process"):
            run_experiment(compose(QUIET), written)


def test_a_multirun_with_one_bad_job_stops_before_any_run(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_cli(["-m", "levers.compensation=0.5,3", *QUIET, f"hydra.sweep.dir={sweep}"],
                  cwd=tmp_path, status=2)
    assert "job 1 (levers.compensation=3" in res.stdout + res.stderr
    assert "levers.compensation: got 3.0" in res.stdout + res.stderr
    assert not list(sweep.glob("*/runs.parquet")) if sweep.exists() else True


# --- data files -----------------------------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped data that the loader reads instead (edit it in the test)."""
    root = tmp_path / "package"
    copy = root / "data" / "norway"
    shutil.copytree(Path(str(resources.files("helsesim") / "data" / "norway")), copy)
    monkeypatch.setattr(data, "resources", types.SimpleNamespace(
        files=lambda package: root, as_file=resources.as_file))
    _clear_data_caches()
    yield copy
    _clear_data_caches()


def _clear_data_caches() -> None:
    for f in (data.municipalities, data.neighbours, data._real_scenario):
        f.cache_clear()


def _edit_csv(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")


DATA_EDITS = {
    "not a CSV": ("municipalities.csv", lambda lines: ["\x00\x01garbage\n"],
                  "municipalities.csv"),
    "a column removed": ("municipalities.csv",
                         lambda lines: [",".join(ln.split(",")[:-1]) + "\n" for ln in lines],
                         "missing columns ['regional_health_authority']"),
    "an empty value": ("municipalities.csv",
                       lambda lines: [lines[0], lines[1].replace("10.7494", "")] + lines[2:],
                       "empty values"),
    "a community's rows removed": ("municipalities.csv",
                                   lambda lines: [ln for ln in lines if "Helgeland" not in ln],
                                   "'helgeland' has no municipalities"),
    "a population edited": ("municipalities.csv",
                             lambda lines: [ln.replace(",717710,", ",717711,") for ln in lines],
                             "'oslo' has 1 municipalities and 717,711 inhabitants"),
    "a neighbour that does not exist": ("neighbours.csv",
                                        lambda lines: [*lines, "9999,0301\n"],
                                        "unknown municipalities"),
}


@pytest.mark.parametrize("case", list(DATA_EDITS))
def test_a_corrupt_or_edited_data_file_is_named_before_any_run(compose, written, data_dir,
                                                               case):
    name, edit, needle = DATA_EDITS[case]
    _edit_csv(data_dir / name, edit)
    before = snapshot(written)
    with pytest.raises(DataError) as e:
        run_experiment(compose(QUIET), written)
    assert needle in str(e.value)
    assert snapshot(written) == before


def test_the_data_files_are_part_of_a_jobs_identity(compose, written, data_dir):
    """Results computed on other data are not resumed or mixed with these."""
    _edit_csv(data_dir / "neighbours.csv", lambda lines: lines[:1] + lines[1:][::-1])
    with pytest.raises(ResultsConflict, match="data files"):
        run_experiment(compose(QUIET), written)
