"""Sweeps at scale (kills, interruptions and damage: test_interruptions.py): a failed run is
recorded and counted in the exit status, a sweep through a local Ray cluster and through the
joblib launcher equals a serial run, and the parts of a job are assembled into one table per
kind, streamed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from conftest import BIN, CLI_ENV, assert_same_tables, read, run_cli
from faults import KillWorkerOnce

from helsesim import results
from helsesim.experiment import (
    make_chunks,
    plan_experiment,
    restrict_to_design,
    run_experiment,
)

#: A small sweep as the CLI runs it (5 designs x n seeds).
SMALL = ["years=2", "experiment.progress=false", "experiment.figures=false"]


def test_failed_runs_are_counted_in_the_exit_status(tmp_path):
    job = tmp_path / "job"
    res = run_cli([*SMALL, "experiment.n_seeds=2", "experiment.n_jobs=2",
                   f"hydra.run.dir={job}"], cwd=tmp_path, faults={"fail_runs": [1, 6]},
                  status=1)
    out = res.stdout + res.stderr
    assert f"2 of 10 runs failed; see the status and error columns of {job}/runs.parquet" in out
    runs = read(job, "runs")
    failed = runs[runs["status"] == "failed"]
    assert failed["run_id"].tolist() == [1, 6]  # the others finished
    assert failed["error"].str.contains("Traceback").all()
    assert (runs["status"] == "ok").sum() == 8
    assert set(read(job, "years")["run_id"]) == set(range(10)) - {1, 6}


def test_a_failed_run_in_a_multirun_fails_the_sweep_after_every_job(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_cli(["-m", "levers.compensation=0,1", "allocation=open_call", *SMALL,
                   "experiment.n_seeds=2", "experiment.n_jobs=1", f"hydra.sweep.dir={sweep}"],
                  cwd=tmp_path, faults={"fail_runs": [0]}, status=1)
    assert "2 of 4 runs failed" in res.stdout + res.stderr
    assert len(read(sweep, "runs")) == 4  # both jobs ran and were gathered


def wait_for_text(path: Path, text: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert proc.poll() is None, f"ended: {path.read_text(errors='replace')[-2000:]}"
        assert time.monotonic() < deadline, f"no {text!r} in {timeout} s"
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "ray start ended"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"the Ray head did not listen on 127.0.0.1:{port} in {timeout} s")


def stop_groups(procs: list[subprocess.Popen], timeout: float = 5) -> None:
    """Stop processes started in sessions of their own, and everything they started: SIGTERM
    to every group at once, SIGKILL to what is left after ``timeout``."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_cluster_steps() -> list[str]:
    """The commands of the README's Ray cluster block (continuation lines joined, comments
    dropped), as a user would type them."""
    text = README.read_text(encoding="utf-8")
    block = text.split("# a Ray cluster\n", 1)[1].split("```", 1)[0]
    commands, line = [], ""
    for raw in block.splitlines():
        code = raw.split("  #", 1)[0].rstrip()
        line += code.rstrip("\\").strip() + " " if code.endswith("\\") else code.strip()
        if not code.endswith("\\"):
            if line.strip():
                commands.append(line.strip())
            line = ""
    return commands


@pytest.fixture
def ray_world(tmp_path):
    """A world of its own for Ray: an empty HOME and Ray's session files in a fresh short
    folder (its socket paths must stay under 108 bytes, so not in tmp_path); nothing is read
    from or left in ~/.ray or /tmp/ray."""
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'helsesim[ray]' (Ray "
                                      "has no wheel for some platforms and Pythons)")
    home = tmp_path / "home"
    home.mkdir()
    ray_tmp = Path(tempfile.mkdtemp(prefix="hs-ray-"))
    before = sorted(Path("/tmp/ray").iterdir()) if Path("/tmp/ray").is_dir() else None
    env = {k: v for k, v in CLI_ENV.items() if not k.startswith("RAY_")}
    # matplotlib's font cache and config go to a folder of their own, so that HOME shows
    # what Ray leaves (nothing)
    env.update(HOME=str(home), RAY_TMPDIR=str(ray_tmp), RAY_USAGE_STATS_ENABLED="0",
               MPLCONFIGDIR=str(tmp_path / "matplotlib"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    yield env
    shutil.rmtree(ray_tmp, ignore_errors=True)
    after = sorted(Path("/tmp/ray").iterdir()) if Path("/tmp/ray").is_dir() else None
    assert after == before, "a test left files in /tmp/ray"


def test_the_readmes_ray_cluster_steps_work_as_written(tmp_path, compose, ray_world):
    """The README's cluster block, run as written with <head-ip> = 127.0.0.1, a free port for
    6379, a small sweep and a second node on this machine (``ray start ... --block`` in
    sessions of their own, stopped by process group instead of ``ray stop``, which would stop
    every Ray of this user). The sweep equals a serial run; a driver without the token is
    refused in one line."""
    port = free_port()
    job = tmp_path / "job"
    small = ("experiment.n_seeds=2 years=2 experiment.chunk_size=1 experiment.figures=false "
             "experiment.progress=false")
    steps = [c.replace("<head-ip>", "127.0.0.1").replace("6379", str(port))
             .replace("experiment.n_seeds=1000", small).replace("results/big", str(job))
             for c in readme_cluster_steps()]
    exports = [c for c in steps if c.startswith("export ")]
    starts = [c for c in steps if c.startswith("ray start")]
    drivers = [c for c in steps if c.startswith("helsesim ")]
    assert len(exports) == 2 and len(starts) == 2 and len(drivers) == 1, steps
    assert [c for c in steps if c not in exports + starts + drivers] == ["ray stop"]
    shown = subprocess.run(["bash", "-c", "; ".join([*exports, "env -0"])], env=ray_world,
                           capture_output=True, text=True, check=True).stdout
    env = dict(kv.split("=", 1) for kv in shown.split("\0") if "=" in kv)
    assert env["RAY_AUTH_MODE"] == "token" and len(env["RAY_AUTH_TOKEN"]) >= 32
    nodes, logs = [], []
    try:
        for cmd in starts:  # each node up ("Ray runtime started.") before the next step
            logs.append(tmp_path / f"node{len(logs)}.log")
            with open(logs[-1], "w") as log:
                nodes.append(subprocess.Popen(["bash", "-c", f"exec {cmd} --block"],
                                              cwd=tmp_path, env=env, start_new_session=True,
                                              stdout=log, stderr=subprocess.STDOUT))
            wait_for_text(logs[-1], "Ray runtime started", nodes[-1])
        res = subprocess.run(["bash", "-c", drivers[0]], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        stranger = {k: v for k, v in env.items() if k != "RAY_AUTH_TOKEN"}
        stranger["HOME"] = str(tmp_path / "stranger")
        refused = subprocess.run(["bash", "-c", drivers[0].replace(str(job),
                                                                   str(tmp_path / "x"))],
                                 cwd=tmp_path, env=stranger, capture_output=True, text=True,
                                 timeout=120)
    finally:
        stop_groups(nodes)
    assert "on 4 Ray workers" in res.stdout + res.stderr  # two nodes of 2 CPUs
    assert refused.returncode == 2, refused.stdout + refused.stderr
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith("helsesim: Ray cluster:") and "RAY_AUTH_TOKEN" in line, line
    serial = run_experiment(compose([*SMALL, "experiment.n_seeds=2", "experiment.chunk_size=1",
                                     "experiment.n_jobs=1"])).tables
    assert_same_tables(job, serial)


def test_the_local_ray_backend_ignores_a_running_or_stale_cluster(tmp_path, compose, ray_world):
    """``experiment.backend=ray`` without an address starts a new local instance in a folder
    of its own: a stale ``ray_current_cluster`` file and a RAY_ADDRESS of another cluster are
    ignored, and nothing is left in HOME or in Ray's temporary folder."""
    stale = Path(ray_world["RAY_TMPDIR"]) / "ray"
    stale.mkdir()
    (stale / "ray_current_cluster").write_text("127.0.0.1:9")  # left by a cluster long gone
    env = {**ray_world, "RAY_ADDRESS": "127.0.0.1:9"}
    args = [*SMALL, "experiment.n_seeds=2", "experiment.n_jobs=2", "experiment.chunk_size=1"]
    res = run_cli([*args, "experiment.backend=ray", f"hydra.run.dir={tmp_path / 'job'}"],
                  cwd=tmp_path, env=env)
    assert "on 2 Ray workers" in res.stdout + res.stderr
    assert not list(Path(ray_world["HOME"]).iterdir())  # no ~/.ray/auth_token
    assert [p.name for p in stale.iterdir()] == ["ray_current_cluster"]
    serial = run_experiment(compose([*args, "experiment.n_jobs=1"])).tables
    assert_same_tables(tmp_path / "job", serial)


def test_joblib_launcher_runs_jobs_in_parallel_and_a_rerun_resumes(tmp_path, compose):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher",
                        reason="hydra-joblib-launcher is not installed: pip install "
                               "'helsesim[parallel]'")
    sweep = tmp_path / "sweep"
    args = ["-m", "allocation=open_call,lottery", *SMALL, "experiment.n_seeds=2",
            f"hydra.sweep.dir={sweep}"]
    run_cli([*args, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], cwd=tmp_path)
    for job, design in ((sweep / "0", "open_call"), (sweep / "1", "lottery")):
        # each job ran its replications in its own process: no nested pools on 2 cores
        assert "runs of nordland, 2 years, on 1 process" in (job / "helsesim.log").read_text()
        task = [f"allocation={design}", *SMALL, "experiment.n_seeds=2", "experiment.n_jobs=1"]
        cfg = compose(task)
        restrict_to_design(cfg, task)  # as the CLI does: one design per job
        serial = run_experiment(cfg).tables
        assert_same_tables(job, serial)
    gathered = read(sweep, "runs")
    # the same command again (with the basic launcher): every job is complete, nothing reruns
    res = run_cli(args, cwd=tmp_path)
    assert (res.stdout + res.stderr).count("nothing to run") == 2
    pd.testing.assert_frame_equal(read(sweep, "runs"), gathered)


def test_worker_death_restarts_the_pool(tmp_path, compose):
    """A worker killed mid-sweep (as by the out-of-memory killer): its chunks are rerun in a
    new pool and the sweep finishes with every run."""
    marker = tmp_path / "killed"
    args = [*SMALL, "experiment.n_seeds=4", "experiment.n_jobs=2", "experiment.chunk_size=1"]
    res = run_experiment(compose(args), tmp_path / "job", before_run=KillWorkerOnce(str(marker)))
    assert marker.exists()
    assert res.tables["runs"]["run_id"].tolist() == list(range(20))
    assert (res.tables["runs"]["status"] == "ok").all()


# --- parts and their assembly ----------------------------------------------------------------

def test_chunks_hold_consecutive_runs_only(compose):
    plan = plan_experiment(compose(["experiment.n_seeds=3"]))
    missing = [r for r in plan.runs if r.run_id not in {3, 4, 9}]
    chunks = make_chunks(missing, 4)
    for c in chunks:
        ids = [r.run_id for r in c]
        assert ids == list(range(ids[0], ids[0] + len(ids))) and len(ids) <= 4
    assert sorted(r.run_id for c in chunks for r in c) == [r.run_id for r in missing]


def test_automatic_chunks_shrink_towards_the_end(compose):
    """Guided chunks: the first are the largest allowed, sizes never grow, every run is in
    exactly one chunk, and the last chunks are single runs (no worker idles long at the end)."""
    runs = plan_experiment(compose(["experiment.n_seeds=40"])).runs
    sizes = [len(c) for c in make_chunks(runs, 50, workers=2)]
    assert sizes[0] == 50
    assert all(a >= b for a, b in zip(sizes, sizes[1:], strict=False))
    assert sum(sizes) == len(runs) and sizes[-1] == 1
    assert [len(c) for c in make_chunks(runs, 7)] == [7] * 28 + [4]  # a size set by the user


def _part(parts: Path, ids: list[int], extra: dict) -> None:
    outputs = [{"runs": {"run_id": i, "arm": "a", "design": "d", "replicate": 0, "seed": i,
                         "status": "ok", "error": "", **extra}} for i in ids]
    results.write_part(parts, outputs)


def test_parts_with_other_columns_and_types_assemble_into_one_table(tmp_path):
    parts = tmp_path / results.PARTS
    _part(parts, [2, 3], {"x": 1.5, "y": "b"})
    _part(parts, [0, 1], {"x": 1})  # an integer where the other part has a float; no y
    results.assemble_parts(parts, tmp_path, [0, 1, 2, 3])
    runs = read(tmp_path, "runs")
    assert runs["run_id"].tolist() == [0, 1, 2, 3]
    assert runs["x"].tolist() == [1.0, 1.0, 1.5, 1.5] and runs["x"].dtype == float
    assert runs["y"].isna().tolist() == [True, True, False, False]
    assert len(read(tmp_path, "years")) == 0  # no run had that table


def test_assembly_refuses_a_missing_or_duplicate_run(tmp_path):
    parts = tmp_path / results.PARTS
    _part(parts, [0, 1], {})
    with pytest.raises(ValueError, match=r"missing \[2\]"):
        results.assemble_parts(parts, tmp_path, [0, 1, 2])
    (parts / ".tmp-stale").mkdir()  # a chunk a killed process left half-written
    assert set(results.committed_parts(parts).values().__iter__().__next__()) == {0, 1}
    assert not (parts / ".tmp-stale").exists()


def test_a_chunk_saved_twice_is_kept_once(tmp_path):
    parts = tmp_path / results.PARTS
    _part(parts, [0, 1], {"x": 1.0})
    _part(parts, [0, 1], {"x": 1.0})  # a task rerun after its worker was lost
    assert list(results.committed_parts(parts).values()) == [[0, 1]]
    assert not [p for p in parts.iterdir() if p.name.startswith(".")]


def test_stream_table_writes_bounded_row_groups(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(results, "ROW_GROUP_BYTES", 80)  # 10 int64 values
    tables = [pa.table({"run_id": list(range(i * 4, i * 4 + 4))}) for i in range(10)]
    n = results.stream_table(tables, tmp_path / "t.parquet",
                             lambda t, schema_only=False: t.schema if schema_only else t,
                             ["run_id"])
    f = pq.ParquetFile(tmp_path / "t.parquet")
    assert n == 40 and f.metadata.num_row_groups == 4  # 12 + 12 + 12 + 4 rows
    assert f.read().column("run_id").to_pylist() == list(range(40))
